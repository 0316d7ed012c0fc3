/**
 * The official Azure IoT SDK (azure-iot-device under Node) against ledge's workload API: its
 * IoT Edge authentication provider gets the trust bundle and a SAS token that ledge accepts.
 */
import assert from "node:assert/strict";
import { serviceTest } from "./_services.ts";
import { runSdkScript, sdkRequirement } from "./_sdk.ts";
import { startSecurity } from "./_security.ts";

serviceTest(
  "ModuleClient.fromEnvironment() gets the trust bundle and a signed token from the workload API",
  [await sdkRequirement()],
  async () => {
    const fixture = await startSecurity();
    try {
      const { manager } = fixture.component;
      const { socketDir, generationId } = await manager.provisionModule("sensor");
      const env = {
        IOTEDGE_WORKLOADURI: `unix://${socketDir}/workload.sock`,
        IOTEDGE_DEVICEID: "dev1",
        IOTEDGE_MODULEID: "sensor",
        IOTEDGE_MODULEGENERATIONID: generationId,
        IOTEDGE_IOTHUBHOSTNAME: "hub.example",
        IOTEDGE_GATEWAYHOSTNAME: "edge.local",
        IOTEDGE_AUTHSCHEME: "sasToken",
        IOTEDGE_APIVERSION: "2018-06-28",
      };
      const result = await runSdkScript("module_client_auth.cjs", env);
      assert.equal(result.code, 0, result.stderr);
      const got = JSON.parse(result.stdout);
      assert.equal(got.providerType, "IotEdgeAuthenticationProvider");
      assert.equal(got.trustBundle, manager.trustBundlePem());
      assert.equal(got.gatewayHostName, "edge.local");
      const token: string = got.sharedAccessSignature;
      assert.match(
        token,
        /^SharedAccessSignature sr=hub\.example%2Fdevices%2Fdev1%2Fmodules%2Fsensor&sig=/,
      );
      assert.deepEqual(
        manager.verifySasToken(token, { deviceId: "dev1", moduleId: "sensor" }).ok,
        true,
      );
      // The same token does not pass for another identity, nor once the module is re-created.
      assert.equal(manager.verifySasToken(token, { deviceId: "dev1" }).ok, false);
      await manager.removeModule("sensor");
      await manager.provisionModule("sensor");
      const after = manager.verifySasToken(token, { deviceId: "dev1", moduleId: "sensor" });
      assert.equal(after.ok, false, "new keys after re-creation");

      // A stale generation id makes the SDK's sign call fail with ledge's 403.
      const stale = await runSdkScript("module_client_auth.cjs", env);
      assert.notEqual(stale.code, 0);
      assert.match(stale.stderr, /getDeviceCredentials failed/);
    } finally {
      await fixture.dispose();
    }
  },
);

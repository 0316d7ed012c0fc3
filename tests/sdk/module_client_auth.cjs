// Runs the official Azure IoT SDK's ModuleClient.fromEnvironment (IOTEDGE_* variables set by the
// test) against a workload socket, and prints what its IoT Edge authentication provider obtained:
// the trust bundle and a SAS token signed through the workload API. It does not connect to a hub.
"use strict";
const { ModuleClient } = require("azure-iot-device");
const { Mqtt } = require("azure-iot-device-mqtt");

ModuleClient.fromEnvironment(Mqtt, (error, client) => {
  if (error) {
    console.error(`fromEnvironment failed: ${error.message}`);
    process.exit(1);
  }
  // The transport holds the IotEdgeAuthenticationProvider that fromEnvironment built.
  const provider = client._transport._authenticationProvider;
  provider.getTrustBundle((bundleError, trustBundle) => {
    if (bundleError) {
      console.error(`getTrustBundle failed: ${bundleError.message}`);
      process.exit(1);
    }
    provider.getDeviceCredentials((credentialsError, credentials) => {
      if (credentialsError) {
        console.error(
          `getDeviceCredentials failed: ${credentialsError.message}`,
        );
        process.exit(1);
      }
      provider.stop();
      console.log(JSON.stringify({
        providerType: provider.constructor.name,
        trustBundle,
        host: credentials.host,
        deviceId: credentials.deviceId,
        moduleId: credentials.moduleId,
        gatewayHostName: credentials.gatewayHostName,
        sharedAccessSignature: credentials.sharedAccessSignature,
      }));
      process.exit(0);
    });
  });
});

import assert from "node:assert/strict";
import { BodyLog } from "./_body_log.ts";
import { decodeRef, encodeRef } from "./_body_ref.ts";
import { tempDir } from "./_testing.ts";

function body(seq: number, bytes: number): Uint8Array {
  return new Uint8Array(bytes).map((_, i) => (seq * 31 + i) & 0xff);
}

Deno.test("BodyLog reads back every body, across segments and after a reopen", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const log = new BodyLog(path, { segmentBytes: 40_000 });
  const refs = new Map<number, ReturnType<BodyLog["append"]>>();
  for (let seq = 1; seq <= 10; seq++) refs.set(seq, log.append(seq, body(seq, 16_384)));
  await log.sync();
  assert.deepEqual(log.segments, [1, 4, 7, 10], "a new segment once one holds 40,000 bytes");
  for (const [seq, ref] of refs) assert.deepEqual(log.read(ref.segment, ref), body(seq, 16_384));
  log.close();

  const again = new BodyLog(path, { segmentBytes: 40_000 });
  try {
    for (const [seq, ref] of refs) {
      assert.deepEqual(again.read(ref.segment, ref), body(seq, 16_384));
    }
    again.append(11, body(11, 100));
    assert.deepEqual(again.segments, [1, 4, 7, 10, 11], "appends after an open start a segment");
  } finally {
    again.close();
  }
});

Deno.test("BodyLog answers undefined for a body whose segment or bytes are gone", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const log = new BodyLog(path, { segmentBytes: 10_000 });
  const first = log.append(1, body(1, 16_384));
  const second = log.append(2, body(2, 16_384));
  await log.sync();
  log.close();
  Deno.removeSync(`${path}-bodies/1.log`);
  Deno.truncateSync(`${path}-bodies/2.log`, 1_000);
  const again = new BodyLog(path);
  try {
    assert.equal(again.read(first.segment, first), undefined);
    assert.equal(again.read(second.segment, second), undefined);
  } finally {
    again.close();
  }
});

Deno.test("BodyLog never reads a body from another segment than the one that holds it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const log = new BodyLog(path, { segmentBytes: 40_000 });
  const refs = Array.from({ length: 6 }, (_, i) => log.append(i + 1, body(i + 1, 16_384)));
  await log.sync();
  log.close();
  assert.deepEqual(refs.map((ref) => ref.segment), [1, 1, 1, 4, 4, 4]);
  // The middle segment goes from outside; the first is long enough to hold its offsets.
  Deno.removeSync(`${path}-bodies/4.log`);
  const again = new BodyLog(path);
  try {
    assert.equal(
      again.read(refs[4]!.segment, refs[4]!),
      undefined,
      "missing, not segment 1's bytes",
    );
    assert.deepEqual(again.read(refs[1]!.segment, refs[1]!), body(2, 16_384));
  } finally {
    again.close();
  }
});

Deno.test("BodyLog.reclaim removes synced, durable segments no message uses, and no other", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const log = new BodyLog(path, { segmentBytes: 10_000 });
  try {
    for (let seq = 1; seq <= 6; seq++) log.append(seq, body(seq, 16_384));
    const asked: string[] = [];
    const live = new Set([3]);
    const inUse = (first: number, end: number) => {
      asked.push(`${first}-${end}`);
      return [...live].some((seq) => seq >= first && seq < end);
    };
    assert.equal(log.reclaim(6, inUse), 0, "nothing goes before its sync");
    assert.deepEqual(asked, []);
    await log.sync();
    assert.equal(log.reclaim(2, inUse), 2, "only segments whose seqs are all durable");
    assert.deepEqual(log.segments, [3, 4, 5, 6]);
    assert.equal(log.reclaim(6, inUse), 3);
    assert.deepEqual(asked, ["1-2", "2-3", "3-4", "4-5", "5-6", `6-${Number.MAX_SAFE_INTEGER}`]);
    assert.deepEqual(
      log.segments,
      [3],
      "the segment in use stays; the unused one appended to goes",
    );
    log.append(7, body(7, 100));
    assert.deepEqual(log.segments, [3, 7], "the next append starts a segment");
    await log.sync();
    live.clear();
    assert.equal(log.reclaim(7, inUse), 2);
    assert.deepEqual(log.segments, []);
    assert.deepEqual([...Deno.readDirSync(`${path}-bodies`)], [], "the files are gone");
  } finally {
    log.close();
  }
});

Deno.test("BodyLog names the segment when an append cannot be written", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const log = new BodyLog(path);
  try {
    log.append(1, body(1, 10));
    // A directory where the next segment's file would go: its create fails.
    Deno.mkdirSync(`${path}-bodies/2.log`);
    log.reclaim(0, () => true);
    await log.sync();
    assert.equal(log.reclaim(1, () => false), 1);
    assert.throws(() => log.append(2, body(2, 10)), /cannot create .*messages\.db-bodies\/2\.log/);
    log.append(3, body(3, 10));
    assert.deepEqual(log.segments, [3]);
  } finally {
    log.close();
  }
});

Deno.test("BodyLog refuses a seq that is not after the last one", async () => {
  await using dir = await tempDir();
  const log = new BodyLog(`${dir.path}/messages.db`);
  try {
    log.append(5, body(5, 10));
    assert.throws(() => log.append(5, body(5, 10)), /seq 5 is not after the last one logged \(5\)/);
  } finally {
    log.close();
  }
});

Deno.test("a body reference is 8 bytes and reads back as written", () => {
  const ref = { offset: 67_108_863, length: 262_144 };
  assert.deepEqual(decodeRef(encodeRef(ref)), ref);
  assert.throws(() => decodeRef(new Uint8Array(7)), /a body reference is 8 bytes, got 7/);
});

Deno.test("BodyLog writes new segments over unused full ones, and reclaim removes those too", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/messages.db`;
  const log = new BodyLog(path, { segmentBytes: 40_000 });
  const files = () => [...Deno.readDirSync(`${path}-bodies`)].map((e) => e.name).sort();
  try {
    for (let seq = 1; seq <= 9; seq++) log.append(seq, body(seq, 16_384));
    await log.sync();
    assert.deepEqual(log.segments, [1, 4, 7]);
    const unlinked = log.drop(6, (first) => first >= 7);
    assert.deepEqual(unlinked, [], "both full segments kept as spares");
    assert.deepEqual(files(), ["1.log", "4.log", "7.log"]);
    // The segment of 7-9 is full: 10 starts another, over a spare.
    const ten = log.append(10, body(10, 100));
    assert.deepEqual(files(), ["1.log", "10.log", "7.log"]);
    assert.equal(Deno.statSync(`${path}-bodies/10.log`).size, 3 * 16_384, "written over");
    await log.sync();
    assert.deepEqual(log.read(ten.segment, ten), body(10, 100));
    log.close();
    const again = new BodyLog(path, { segmentBytes: 40_000 });
    try {
      assert.deepEqual(again.read(ten.segment, ten), body(10, 100), "read back after a reopen");
      assert.equal(again.reclaim(10, (first) => first === 10), 2, "the spare left and 7 go");
      assert.deepEqual(files(), ["10.log"]);
    } finally {
      again.close();
    }
  } finally {
    log.close();
  }
});

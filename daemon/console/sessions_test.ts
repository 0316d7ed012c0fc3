import assert from "node:assert/strict";
import {
  ConsoleSessions,
  csrfMatches,
  LOGIN_TTL_MS,
  SESSION_IDLE_MS,
  SESSION_MAX_AGE_MS,
} from "./sessions.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

Deno.test("ConsoleSessions: a login link opens one session, once", () => {
  const sessions = new ConsoleSessions();
  const { token } = sessions.issueLogin();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
  const first = sessions.redeem(token);
  assert.ok(first);
  assert.equal(sessions.redeem(token), undefined, "a used link is refused");
  assert.equal(sessions.session(first.cookie), first.session);
  assert.notEqual(first.cookie, token);
  assert.notEqual(first.session.csrf, first.cookie);
});

Deno.test("ConsoleSessions: unknown and expired links are refused", () => {
  const time = clock();
  const sessions = new ConsoleSessions({ now: time.now });
  assert.equal(sessions.redeem("made-up"), undefined);
  assert.equal(sessions.redeem(""), undefined);
  const { token, expiresAt } = sessions.issueLogin();
  assert.equal(expiresAt, time.now() + LOGIN_TTL_MS);
  time.advance(LOGIN_TTL_MS);
  assert.equal(sessions.redeem(token), undefined);
});

Deno.test("ConsoleSessions: a session ends when idle too long, or too old, or signed out", async (t) => {
  await t.step("idle", () => {
    const time = clock();
    const sessions = new ConsoleSessions({ now: time.now });
    const { cookie } = sessions.redeem(sessions.issueLogin().token)!;
    time.advance(SESSION_IDLE_MS - 1);
    assert.ok(sessions.session(cookie), "use keeps it alive");
    time.advance(SESSION_IDLE_MS + 1);
    assert.equal(sessions.session(cookie), undefined);
  });
  await t.step("too old, however used", () => {
    const time = clock();
    const sessions = new ConsoleSessions({ now: time.now });
    const { cookie } = sessions.redeem(sessions.issueLogin().token)!;
    for (let used = 0; used < SESSION_MAX_AGE_MS; used += SESSION_IDLE_MS / 2) {
      assert.ok(sessions.session(cookie));
      time.advance(SESSION_IDLE_MS / 2);
    }
    time.advance(1);
    assert.equal(sessions.session(cookie), undefined);
  });
  await t.step("signed out", () => {
    const sessions = new ConsoleSessions();
    const { cookie } = sessions.redeem(sessions.issueLogin().token)!;
    sessions.end(cookie);
    assert.equal(sessions.session(cookie), undefined);
    assert.equal(sessions.session(undefined), undefined);
  });
});

Deno.test("ConsoleSessions keeps at most 32 sessions, dropping the least recently used", () => {
  const sessions = new ConsoleSessions();
  const cookies = Array.from(
    { length: 32 },
    () => sessions.redeem(sessions.issueLogin().token)!.cookie,
  );
  assert.ok(sessions.session(cookies[0]), "the first is used again, so it is not the oldest");
  sessions.redeem(sessions.issueLogin().token);
  assert.equal(sessions.size, 32);
  assert.ok(sessions.session(cookies[0]));
  assert.equal(sessions.session(cookies[1]), undefined);
});

Deno.test("csrfMatches() takes only the session's own token", () => {
  const sessions = new ConsoleSessions();
  const { session } = sessions.redeem(sessions.issueLogin().token)!;
  assert.equal(csrfMatches(session, session.csrf), true);
  assert.equal(csrfMatches(session, undefined), false);
  assert.equal(csrfMatches(session, ""), false);
  assert.equal(csrfMatches(session, session.csrf.slice(1)), false);
  assert.equal(csrfMatches(session, session.csrf.slice(0, -1) + "x"), false);
});

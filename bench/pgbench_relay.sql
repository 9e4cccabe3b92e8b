-- pgbench custom script: the SQL of relaying ONE queued message, with pacing off, as the relay
-- runs it (src/store/relay_statements.hpp) but one message per claim and one per result: what a
-- relay that claims and records every message on its own could at best do on this machine. The
-- baseline of bench/relay.sh, which seeds the queue and runs
--
--   pgbench -n -M prepared -c 16 -j 2 -t T -f bench/pgbench_relay.sql "$DATABASE_URL"
--
-- on a queue of exactly 16 x T rows (phone number 19990000002) and nothing else: each execution
-- ("transaction" in pgbench's output) relays one message, so its TPS is messages/s, and the run
-- empties the queue. Per message:
--   BEGIN
--   the claim: the oldest due row whose claim is free, FOR UPDATE OF q SKIP LOCKED, joined to
--     its message (payload) and number (token, throughput), as relay_claim_due reads it
--   UPDATE relay_queue SET locked_until = now + lease, attempts + 1 (relay_write_claim, pacing off)
--   COMMIT
--   (the send to Meta would happen here)
--   the result, one statement in its own transaction, as relay_record_accepted: the queue row
--     deleted (for the attempt claimed), the wamid recorded with status `sending`, the `sending`
--     status row inserted
-- Not included: the relay's attaching of parked statuses after each result batch (a lookup in
-- parked_statuses, empty here).
--
-- Needs -M extended or -M prepared: the message id is a uuid carried in a variable, which the
-- simple protocol would paste into the SQL unquoted. The wamid is 'wamid.PGBENCH' + the id, so
-- it is unique as the messages_wamid index requires.
BEGIN;
WITH clock AS (SELECT clock_timestamp() AS t)
SELECT q.message_id AS id, q.attempts + 1 AS attempt, q.phone_number_id AS phone, q.wa_id AS wa_id,
       (extract(epoch FROM q.expires_at) * 1000000)::bigint AS expires_us, m.kind AS kind,
       m.payload::text AS payload, COALESCE(n.access_token, '') AS token,
       COALESCE(n.throughput_mps, 80) AS mps, (extract(epoch FROM clock.t) * 1000000)::bigint AS now_us,
       COALESCE(q.last_error #>> '{0,error_data,details}', '') AS last_failure
FROM wagate.relay_queue q CROSS JOIN clock
JOIN wagate.messages m ON m.id = q.message_id
LEFT JOIN wagate.phone_numbers n ON n.id = q.phone_number_id
WHERE q.due_at <= clock.t AND (q.locked_until IS NULL OR q.locked_until <= clock.t)
ORDER BY q.due_at LIMIT 1
FOR UPDATE OF q SKIP LOCKED \gset
UPDATE wagate.relay_queue SET locked_until = clock_timestamp() + interval '120 seconds', attempts = attempts + 1
WHERE message_id = :id;
COMMIT;
WITH input AS (SELECT :id::uuid AS id, :attempt::int AS attempt, 'wamid.PGBENCH' || replace(:id::text, '-', '') AS wamid),
dequeued AS (
  DELETE FROM wagate.relay_queue q USING input i WHERE q.message_id = i.id AND q.attempts = i.attempt),
recorded AS (
  UPDATE wagate.messages m SET wamid = i.wamid,
    status = CASE WHEN m.status = 'accepted' THEN 'sending' ELSE m.status END,
    updated_at = now()
  FROM input i WHERE m.id = i.id AND m.wamid IS NULL RETURNING m.id)
INSERT INTO wagate.message_statuses (message_id, status, occurred_at)
SELECT id, 'sending', now() FROM recorded ON CONFLICT DO NOTHING;

-- pgbench custom script: the SQL of ONE accepted message as ONE transaction, i.e. what the
-- gateway would cost per message if it committed every message on its own (no group commit).
--
--   pgbench -n -c 16 -j 2 -T 20 -f bench/pgbench_accept.sql "$DATABASE_URL"
--
-- Run it after the gateway's migrations (schema wagate). It writes under the phone number
-- 19990000000 so that its rows can be told apart from the gateway's (no foreign key from
-- messages to phone_numbers, exactly as in production).
--
-- The message id: pgbench cannot hand a uuid from one statement to the next without a \gset
-- round trip, and its default (simple) protocol pastes variables in unquoted. So the id is
-- built in SQL from two \set random numbers and now() (fixed for the whole transaction), which
-- gives the same value in all three INSERTs and, like the gateway's UUIDv7 ids, is
-- time-ordered (48-bit millisecond prefix) so the primary-key index is appended to, not
-- scattered. Works with -M simple, extended and prepared.
\set r1 random(0, 4294967295)
\set r2 random(0, 281474976710655)
\set n random(0, 9999999)
BEGIN;
INSERT INTO wagate.messages (id, phone_number_id, kind, type, to_input, wa_id, payload, biz_opaque_callback_data, api_key_id)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || lpad(to_hex(:r1::bigint), 8, '0') || lpad(to_hex(:r2::bigint), 12, '0'))::uuid,
        '19990000000', 'message', 'text', '+1555' || lpad(:n::text, 7, '0'), '1555' || lpad(:n::text, 7, '0'),
        ('{"to": "+1555' || lpad(:n::text, 7, '0') || '", "text": {"body": "hello from the pgbench baseline"}, "type": "text", "recipient_type": "individual", "messaging_product": "whatsapp"}')::jsonb,
        NULL, '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
INSERT INTO wagate.message_statuses (message_id, status, occurred_at)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || lpad(to_hex(:r1::bigint), 8, '0') || lpad(to_hex(:r2::bigint), 12, '0'))::uuid,
        'accepted', now());
INSERT INTO wagate.relay_queue (message_id, phone_number_id, due_at, expires_at)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || lpad(to_hex(:r1::bigint), 8, '0') || lpad(to_hex(:r2::bigint), 12, '0'))::uuid,
        '19990000000', now(), now() + interval '720 hours');
COMMIT;

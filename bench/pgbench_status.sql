-- pgbench custom script: the SQL of ONE status update (a Meta status webhook item for an outbound
-- message) as ONE transaction: what applying statuses would cost if every status were committed
-- on its own, as a "one webhook, one transaction" receiver does. The baseline of
-- bench/webhook_ingest.sh.
--
--   pgbench -n -c 16 -j 2 -T 10 -D n=0 -D base=0 -D clients=16 -D pool=500000 -D lag=1000 \
--           -f bench/pgbench_status.sql "$DATABASE_URL"
--
-- Run it after the gateway's migrations, on messages seeded by bench/webhook_ingest.sh: `pool`
-- messages of phone number 19990000000 whose wamids are
-- 'wamid.HBgLMTk5OTAwMDAwMDAVAgARGBJQR0JFTkNI' followed by 0000000000 .. pool-1 (10 digits), each
-- with status 'accepted'. Every transaction:
--   INSERT INTO message_statuses ... SELECT id FROM messages WHERE wamid = ... ON CONFLICT DO NOTHING
--   UPDATE messages SET status = ... WHERE wamid = ... (only ever upwards, as the gateway folds)
--   COMMIT
-- with the item as received in `raw`, and on sent/delivered the pricing and conversation objects
-- (in the status row and on the message), as the gateway stores them.
--
-- Which status: the same sequence as loadgen --meta-statuses, so that no (wamid, status) repeats
-- and every INSERT really inserts. pgbench keeps a client's variables from one transaction to the
-- next, so `n` (-D n=0) counts this client's transactions; status number
-- k = base + (n - 1) * clients + client_id is "sent", "delivered" or "read" (k % 3) of message
-- (k / 3 - (k % 3) * lag) mod pool. The caller moves `base` past the k of earlier runs (it reads
-- the highest transaction number of each client from pgbench's --log).
-- Works with -M simple, extended and prepared (the wamid prefix is in the text, not a variable:
-- the simple protocol pastes variables in unquoted).
\set n :n + 1
\set k :base + (:n - 1) * :clients + :client_id
\set s :k % 3
\set m (:k / 3 % :pool + :pool - (:s * (:lag % :pool)) % :pool) % :pool
BEGIN;
INSERT INTO wagate.message_statuses (message_id, status, participant, occurred_at, raw, pricing, conversation)
SELECT id, (ARRAY['sent', 'delivered', 'read'])[:s + 1], '', date_trunc('second', now()),
       ('{"id": "wamid.HBgLMTk5OTAwMDAwMDAVAgARGBJQR0JFTkNI' || lpad(:m::text, 10, '0')
        || '", "status": "' || (ARRAY['sent', 'delivered', 'read'])[:s + 1]
        || '", "timestamp": "' || extract(epoch FROM now())::bigint
        || '", "recipient_id": "1999' || lpad((:m % 10000000)::text, 7, '0') || '"'
        || CASE WHEN :s < 2 THEN ', "conversation": {"id": "' || md5(:m::text)
             || '", "origin": {"type": "utility"}}, "pricing": {"type": "regular", "billable": true, "category": "utility", "pricing_model": "PMP"}'
           ELSE '' END
        || '}')::jsonb,
       CASE WHEN :s < 2 THEN '{"type": "regular", "billable": true, "category": "utility", "pricing_model": "PMP"}'::jsonb END,
       CASE WHEN :s < 2 THEN ('{"id": "' || md5(:m::text) || '", "origin": {"type": "utility"}}')::jsonb END
FROM wagate.messages WHERE wamid = 'wamid.HBgLMTk5OTAwMDAwMDAVAgARGBJQR0JFTkNI' || lpad(:m::text, 10, '0')
ON CONFLICT DO NOTHING;
UPDATE wagate.messages
SET status = (ARRAY['sent', 'delivered', 'read'])[:s + 1],
    pricing = CASE WHEN :s < 2 THEN '{"type": "regular", "billable": true, "category": "utility", "pricing_model": "PMP"}'::jsonb ELSE pricing END,
    pricing_rank = CASE WHEN :s < 2 THEN :s + 3 ELSE pricing_rank END,
    conversation = CASE WHEN :s < 2 THEN ('{"id": "' || md5(:m::text) || '", "origin": {"type": "utility"}}')::jsonb ELSE conversation END,
    conversation_rank = CASE WHEN :s < 2 THEN :s + 3 ELSE conversation_rank END,
    updated_at = now()
WHERE wamid = 'wamid.HBgLMTk5OTAwMDAwMDAVAgARGBJQR0JFTkNI' || lpad(:m::text, 10, '0')
  AND COALESCE(array_position(ARRAY['accepted', 'sending', 'sent', 'delivered', 'read', 'played'], status), 0) < :s + 3;
COMMIT;

-- pgbench custom script: the SQL of ONE business-initiated template as ONE transaction, i.e. what
-- the gateway would cost per template if it committed every template on its own (no group
-- commit): the business lock, the state read, the five writes, the commit.
--
--   pgbench -n -c 16 -j 2 -T 20 -f bench/pgbench_template.sql "$DATABASE_URL"
--
-- It is the gateway's accept batch for one input (src/store/accept_statements.hpp:
-- accept_lock_businesses, accept_state, accept_insert_counted), with the parameters written as
-- literals and pgbench variables, and the insert CTE split into one statement per table as in
-- bench/pgbench_accept.sql (the idempotency_keys claim is left out: the bench sends no
-- Idempotency-Key, so it writes nothing there either). The state read's $6, the ids the lock
-- returned, is written as the literal it always is here ('pgbench-biz'): the simple protocol
-- would paste a \gset variable in unquoted.
--
-- It needs, besides the gateway's migrations (schema wagate), what bench/send_api.sh creates
-- through the admin API before running it:
--   business    pgbench-biz    (messaging_limit_tier TIER_UNLIMITED)
--   phone       19990000001    (business pgbench-biz, waba_id pgbench-waba, require_opt_in false)
--   template    pgbench-waba / bench_code / en_US, APPROVED, body "Your code is {{1}}"
-- Its rows use phone number 19990000001 and recipients 1666xxxxxxx, none of which has a contact
-- row: every transaction is a template to a user without a window, so it takes the lock, reads
-- the budget and writes a limit_counts row, as the gateway's template case does. All 16 clients
-- lock the same business row, as all of the gateway's batches do.
--
-- The message id is built in SQL as in pgbench_accept.sql (see there). The state read's result
-- goes to \gset (no extra round trip: it is stored from the answer the read gets anyway), so the
-- budget update writes base + 1 and the cutoff, as the gateway does with the values it read.
-- Every column is named because \gset needs a variable name for each. Works with -M simple,
-- extended and prepared.
\set r1 random(0, 4294967295)
\set r2 random(0, 281474976710655)
\set n random(0, 9999999)
BEGIN;
-- accept_lock_businesses: $1 the numbers of the batch's templates.
SELECT b.id FROM wagate.businesses b
WHERE b.id IN (SELECT n.business_id FROM wagate.phone_numbers n WHERE n.id = ANY(ARRAY['19990000001']::text[]))
ORDER BY b.id FOR NO KEY UPDATE OF b;
-- accept_state for one input: $1 phone, $2 wa_id, $3/$4 template, $5 the cutoff (now - 24 h) in
-- microseconds, $6 the businesses the lock returned, $7 false (the pair cap is off by default),
-- $8 the API key id, $9 no idempotency key.
WITH input AS (
  SELECT * FROM unnest(ARRAY['19990000001']::text[], ARRAY['1666' || lpad(:n::text, 7, '0')]::text[],
                       ARRAY['bench_code']::text[], ARRAY['en_US']::text[],
                       ARRAY['0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b']::text[], ARRAY[NULL]::text[])
    WITH ORDINALITY AS t(phone_number_id, wa_id, template_name, template_language, api_key_id,
                         idem_key, ord)),
locked AS (
  SELECT b.id, b.messaging_limit_tier, b.limit_used, b.limit_expired_through,
         greatest(b.limit_expired_through,
                  ('epoch'::timestamptz + ((extract(epoch FROM now() - interval '24 hours') * 1000000)::bigint)::bigint * interval '1 microsecond')) AS cutoff
  FROM wagate.businesses b WHERE b.id = ANY(ARRAY['pgbench-biz']::text[])),
budget AS MATERIALIZED (
  SELECT l.id, l.messaging_limit_tier, l.cutoff,
    l.limit_used - (SELECT count(*) FROM wagate.limit_counts lc WHERE lc.business_id = l.id
      AND lc.counted_at > l.limit_expired_through AND lc.counted_at <= l.cutoff) AS used,
    (SELECT min(lc.counted_at) FROM wagate.limit_counts lc
      WHERE lc.business_id = l.id AND lc.counted_at > l.cutoff) AS oldest
  FROM locked l)
SELECT n.business_id AS business_id, n.waba_id AS waba_id, n.status AS number_status, n.require_opt_in AS require_opt_in,
  (extract(epoch FROM c.last_inbound_at) * 1000000)::bigint AS last_inbound, c.opted_in AS opted_in,
  c.opted_out AS opted_out, c.identity_ack_required AS identity_ack_required,
  t.status AS template_status, t.definition::text AS template_definition,
  (extract(epoch FROM t.updated_at) * 1000000)::bigint AS template_updated,
  encode(k.request_hash, 'hex') AS idem_hash, k.response AS idem_response,
  CASE WHEN false::boolean AND i.wa_id <> '' THEN (SELECT count(*) FROM wagate.relay_queue q
    WHERE q.phone_number_id = i.phone_number_id AND q.wa_id = i.wa_id) ELSE 0 END AS queued_to_user,
  bu.messaging_limit_tier AS tier, bu.used AS budget_used,
  (extract(epoch FROM bu.cutoff) * 1000000)::bigint AS cutoff_micros,
  (extract(epoch FROM bu.oldest) * 1000000)::bigint AS oldest_counted,
  EXISTS (SELECT 1 FROM wagate.limit_counts lc WHERE lc.business_id = bu.id AND lc.wa_id = i.wa_id
    AND lc.counted_at > bu.cutoff) AS user_counted
FROM input i
LEFT JOIN wagate.phone_numbers n ON n.id = i.phone_number_id
LEFT JOIN wagate.contacts c ON c.phone_number_id = i.phone_number_id AND c.wa_id = i.wa_id
LEFT JOIN wagate.templates t ON t.waba_id = n.waba_id AND t.name = i.template_name
  AND t.language = i.template_language
LEFT JOIN wagate.idempotency_keys k ON k.api_key_id = i.api_key_id::uuid AND k.key = i.idem_key
LEFT JOIN budget bu ON bu.id = n.business_id
ORDER BY i.ord
\gset st_
-- accept_insert_counted for one admitted template that takes a slot: message, accepted status,
-- relay-queue row (with the recipient), limit count, and the business's counter.
INSERT INTO wagate.messages (id, phone_number_id, kind, type, to_input, wa_id, payload, biz_opaque_callback_data, api_key_id)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || lpad(to_hex(:r1::bigint), 8, '0') || lpad(to_hex(:r2::bigint), 12, '0'))::uuid,
        '19990000001', 'message', 'template', '+1666' || lpad(:n::text, 7, '0'), '1666' || lpad(:n::text, 7, '0'),
        ('{"to": "+1666' || lpad(:n::text, 7, '0') || '", "type": "template", "template": {"name": "bench_code", "language": {"code": "en_US"}, "components": [{"type": "body", "parameters": [{"type": "text", "text": "482913"}]}]}, "recipient_type": "individual", "messaging_product": "whatsapp"}')::jsonb,
        NULL, '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
INSERT INTO wagate.message_statuses (message_id, status, occurred_at)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || lpad(to_hex(:r1::bigint), 8, '0') || lpad(to_hex(:r2::bigint), 12, '0'))::uuid,
        'accepted', now());
INSERT INTO wagate.relay_queue (message_id, phone_number_id, wa_id, due_at, expires_at)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || lpad(to_hex(:r1::bigint), 8, '0') || lpad(to_hex(:r2::bigint), 12, '0'))::uuid,
        '19990000001', '1666' || lpad(:n::text, 7, '0'), now(), now() + interval '720 hours');
INSERT INTO wagate.limit_counts (business_id, wa_id, counted_at)
VALUES ('pgbench-biz', '1666' || lpad(:n::text, 7, '0'), now());
UPDATE wagate.businesses b SET limit_used = :st_budget_used + 1,
       limit_expired_through = ('epoch'::timestamptz + (:st_cutoff_micros)::bigint * interval '1 microsecond')
WHERE b.id = 'pgbench-biz';
COMMIT;

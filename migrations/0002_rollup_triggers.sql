-- Exact-count rollups and data freshness, maintained in the same transaction as every write.
-- Statement-level triggers with transition tables: one aggregated upsert per statement, so bulk imports stay fast.
-- Days are UTC days of created_at.

CREATE FUNCTION udc_ticket_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ticket_counts AS c (tenant_id, day, status, priority, n)
    SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, status, priority, count(*)
      FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (tenant_id, day, status, priority) DO UPDATE SET n = c.n + excluded.n;
  IF TG_OP = 'UPDATE' THEN
    UPDATE ticket_counts AS c SET n = c.n - o.n
      FROM (SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, status, priority, count(*) AS n
              FROM old_rows GROUP BY 1, 2, 3, 4) AS o
     WHERE c.tenant_id = o.tenant_id AND c.day = o.day AND c.status = o.status AND c.priority = o.priority;
  END IF;
  INSERT INTO data_changes AS d (tenant_id, source, changed_at)
  SELECT DISTINCT tenant_id, 'tickets', now() FROM new_rows
  ON CONFLICT (tenant_id, source) DO UPDATE SET changed_at = excluded.changed_at, version = d.version + 1;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION udc_ticket_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ticket_counts AS c SET n = c.n - o.n
    FROM (SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, status, priority, count(*) AS n
            FROM old_rows GROUP BY 1, 2, 3, 4) AS o
   WHERE c.tenant_id = o.tenant_id AND c.day = o.day AND c.status = o.status AND c.priority = o.priority;
  INSERT INTO data_changes AS d (tenant_id, source, changed_at)
  SELECT DISTINCT tenant_id, 'tickets', now() FROM old_rows
  ON CONFLICT (tenant_id, source) DO UPDATE SET changed_at = excluded.changed_at, version = d.version + 1;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER tickets_counts_insert AFTER INSERT ON tickets
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_ticket_counts_apply();
--> statement-breakpoint
CREATE TRIGGER tickets_counts_update AFTER UPDATE ON tickets
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_ticket_counts_apply();
--> statement-breakpoint
CREATE TRIGGER tickets_counts_delete AFTER DELETE ON tickets
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_ticket_counts_deleted();
--> statement-breakpoint
CREATE FUNCTION udc_customer_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO customer_counts AS c (tenant_id, day, status, n)
  SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, status, count(*)
    FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (tenant_id, day, status) DO UPDATE SET n = c.n + excluded.n;
  IF TG_OP = 'UPDATE' THEN
    UPDATE customer_counts AS c SET n = c.n - o.n
      FROM (SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, status, count(*) AS n
              FROM old_rows GROUP BY 1, 2, 3) AS o
     WHERE c.tenant_id = o.tenant_id AND c.day = o.day AND c.status = o.status;
  END IF;
  INSERT INTO data_changes AS d (tenant_id, source, changed_at)
  SELECT DISTINCT tenant_id, 'customers', now() FROM new_rows
  ON CONFLICT (tenant_id, source) DO UPDATE SET changed_at = excluded.changed_at, version = d.version + 1;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION udc_customer_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE customer_counts AS c SET n = c.n - o.n
    FROM (SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, status, count(*) AS n
            FROM old_rows GROUP BY 1, 2, 3) AS o
   WHERE c.tenant_id = o.tenant_id AND c.day = o.day AND c.status = o.status;
  INSERT INTO data_changes AS d (tenant_id, source, changed_at)
  SELECT DISTINCT tenant_id, 'customers', now() FROM old_rows
  ON CONFLICT (tenant_id, source) DO UPDATE SET changed_at = excluded.changed_at, version = d.version + 1;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER customers_counts_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_customer_counts_apply();
--> statement-breakpoint
CREATE TRIGGER customers_counts_update AFTER UPDATE ON customers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_customer_counts_apply();
--> statement-breakpoint
CREATE TRIGGER customers_counts_delete AFTER DELETE ON customers
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_customer_counts_deleted();
--> statement-breakpoint
CREATE FUNCTION udc_metric_points_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO data_changes AS d (tenant_id, source, changed_at)
  SELECT DISTINCT tenant_id, 'metrics', now() FROM changed_rows
  ON CONFLICT (tenant_id, source) DO UPDATE SET changed_at = excluded.changed_at, version = d.version + 1;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER metric_points_changed_insert AFTER INSERT ON metric_points
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_metric_points_changed();
--> statement-breakpoint
CREATE TRIGGER metric_points_changed_update AFTER UPDATE ON metric_points
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_metric_points_changed();
--> statement-breakpoint
CREATE TRIGGER metric_points_changed_delete AFTER DELETE ON metric_points
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION udc_metric_points_changed();

-- xml changes, when setup-xml.sql ran: after changes.sql, before the last insert.
INSERT INTO dz_xml SELECT id + 100, n, x, xt FROM dz_xml WHERE id < 100;
UPDATE dz_xml SET n = n + 1 WHERE id = 1;  -- xt unchanged and TOASTed
DELETE FROM dz_xml WHERE id = 2;

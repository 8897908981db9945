-- xml, when the server is built with libxml (PyPI's PostgreSQL 18 is not): run after
-- setup.sql.
CREATE TABLE dz_xml (id int PRIMARY KEY, n int, x xml, xt xml);
ALTER TABLE dz_xml ALTER COLUMN xt SET STORAGE EXTERNAL;
INSERT INTO dz_xml VALUES
    (1, 0, '<a x="1">t &amp; u</a>', xmlelement(name x, repeat('x', 5000))),
    (2, 0, '', NULL),
    (3, 0, NULL, NULL);

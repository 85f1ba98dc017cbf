-- A restored copy of a production database never posts invoices to real buyers' networks (cXML):
-- the sending code refuses while this parameter is set; pending automatic retries are closed.
INSERT INTO ir_config_parameter (key, value)
     VALUES ('ar_customer_centric.cxml_neutralized', '1')
ON CONFLICT (key) DO UPDATE
        SET value = '1';
UPDATE ar_delivery_log
   SET state = 'failed', next_attempt = NULL
 WHERE channel = 'ar_cxml' AND state = 'retry';

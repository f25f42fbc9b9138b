"""The model of the scanned infrastructure: resources, the providers they use, and what follows from them
(class, region, tenant, account, references). Built once per checkov graph; a plan source can feed the same
records later."""

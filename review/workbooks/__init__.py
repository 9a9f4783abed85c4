"""Excel workbooks handed to people and read back (openpyxl): one module per stage."""

"""Files GridDesk writes and keeps: the one Excel writer (``xlsx`` streams long sheets,
``xlsx_layout`` lays out the small workbooks), a table as .xlsx or .csv (``table_file``),
text that stays text in a spreadsheet (``inert``), all-or-nothing files (``atomic``) and the
offline copy of a branch (``snapshot``). Workbooks with their contents live in ``exports``;
reading files in, in ``importer``."""

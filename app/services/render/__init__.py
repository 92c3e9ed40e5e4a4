"""Pictures drawn for the screens and the files: the matplotlib charts (``charts``, from the
figures of ``chart_data``) and the bundled CJK font they and the widgets use (``fonts``). The
map page is ``app.services.mapping``."""

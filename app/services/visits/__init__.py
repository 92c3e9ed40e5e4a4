"""The weekly visit lists: the customers a specialist should see and the days they fall on
(``lists``), in the order of a short route (``route``). The files are written by
``app.services.exports.visits``."""

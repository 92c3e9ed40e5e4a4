"""A customer's relationship with the programme: the 4-sell step reached, from done tasks
(``steps``), who served them on a given day (``history``) and the SMS that tells them who
serves them now (``notify``)."""

"""The specialists' task queues: a queue's filter, rows, count and reassignment (``queue``), and
the queue a page at a time through the index of its sort (``pages``)."""

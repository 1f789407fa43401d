"""Privacy duties: an invitee's own data export and erasure, the retention purge, and the record
of who exported or deleted what."""

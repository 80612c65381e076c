"""Tables, repositories and the unit of work on PostgreSQL."""

"""PostgreSQL and Kafka behind the service layer's ports."""

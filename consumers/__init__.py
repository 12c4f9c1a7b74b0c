"""Everything that talks to Kafka: topics, the relay, the inbound intake, Kafka-fed projections.

Importing this package (or `consumers.topics`, `consumers.binding`, `consumers.asyncapi`) does
not import the Kafka client; only the modules that run clients do, so embedded mode never
loads it.
"""

"""Wire-level definitions shared by the SDK and the server: attribute names and API models."""

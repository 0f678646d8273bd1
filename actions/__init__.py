"""The custom action server: one module per area of the shop's conversations."""

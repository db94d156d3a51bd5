"""One probe module per catalog category; importing this package registers them all."""

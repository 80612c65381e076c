"""Mandi's availability service: the trade desk's order book (what sellers can sell, what buyers
need) on a per-tenant commodity catalog, and the quantities a trade's saga reserves."""

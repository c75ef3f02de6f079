"""Distansmöte: the distance-meeting routine as a chat bot."""

"""reid"""

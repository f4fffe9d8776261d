"""File readers.

Files as the user has them: OSM roads, boundary layers (any CRS, GBK or UTF-8), existing
facilities (CSV with datums), OSM buildings, Chinese datums, and Zhengzhou's frame.
"""

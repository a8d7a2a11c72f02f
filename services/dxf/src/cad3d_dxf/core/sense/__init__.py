"""Drawing sense: read a sheet as a person would before anything is extruded.

Each step decides one thing from evidence in the drawing, records the decision and its evidence
for the report, and can be switched off by an option (DxfOptions):

- blocks.py: which block references are furniture, fixtures, plants or symbols (not extruded);
- sheet.py: the drawing frame, title block, tables, notes and dimension geometry (``sheet``);
- units.py: what unit the coordinates are really in, checked against $INSUNITS (``input_unit``);
- plan.py: walls, door and window openings, rooms and their names on plans (``plan``);
- views.py: the views of a mechanical part, its main view and thickness (``views``).

docs/reading-drawings.md explains each decision for users.
"""

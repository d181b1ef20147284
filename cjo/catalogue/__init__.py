"""The declarative trigger catalogue: YAML files a marketing team edits, validated precisely."""

"""The five upload concerns as planners; import each one's own module, so no function loads the others' models."""

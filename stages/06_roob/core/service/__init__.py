"""The service layer of the sample app: business logic between controllers and data."""

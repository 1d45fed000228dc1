"""Email to shoppers who are not on the page: unread store and agent messages, emailed once per burst."""

"""One exception type for mistakes a user can fix; the CLI prints it as one line, no traceback."""


class UserError(Exception):
    pass

"""What a service raises when it will not do what was asked, before writing anything."""


class Refusal(ValueError):
    """A refusal whose ``message`` (maybe a lazy string, said in the reader's language
    when shown) tells the user why: at the field it is about, or above the form."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message

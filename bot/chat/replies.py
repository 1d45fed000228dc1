"""What the assistant says from its actions, in the shopper's language (English).

Kept as data in one place so that sellers' own templates can replace them; with the one
way a button's payload is written (:func:`button_payload`).
"""

import json


def button_payload(intent: str, entities: dict[str, str]) -> str:
    """A button's payload as Rasa reads it: "/intent" then the entities as JSON. Written with
    ``json.dumps``, so that no value (an order number or a SKU with a '"' or a '}' in it) can
    close its quotes and add entities of its own; Rasa parses the JSON back to the same values."""
    return f"/{intent}" + json.dumps(entities, separators=(",", ":"))


ASK_ORDER_NUMBER = "Sure, I can check that. What's your order number? It looks like FZ-20931, #1047 or 113-4928371-0029384."
CHOOSE_ORDER = "Which order do you mean? Pick one, or type its number."
ASK_ORDER_VERIFICATION = (
    "Thanks. To keep your details safe, what's the email address or the shipping postcode on that order?"
)
NOT_AN_ORDER_NUMBER = (
    "That doesn't look like an order number. It looks like FZ-20931, #1047 or "
    "113-4928371-0029384, and it's in your order confirmation email."
)
NOT_AN_EMAIL_OR_POSTCODE = (
    "I need the email address or the shipping postcode on the order, for example alex@example.com or 10027."
)
NOT_YOUR_ORDER = "I can't find order {order_number} among your orders with this store. Please check the number."
#: The same words for an unknown order and a wrong email or postcode.
IDENTITY_CHECK_FAILED = (
    "Sorry, I couldn't find an order with those details. "
    "Let's try again: please check the order number in your confirmation email."
)
#: The failed check that locked the order (or the address, bot/orders/identity_checks.py): a person from the
#: store takes over ({next_steps}: see ESCALATED).
IDENTITY_CHECK_LOCKED = (
    "Sorry, those details still don't match an order. For your security I won't check them again for now, "
    "but a person from the store will help you here in this chat (reference {reference}). {next_steps}"
)
#: Asking again once locked: nothing is checked, and the person already asked for is named.
IDENTITY_CHECK_STILL_LOCKED = (
    "For your security I won't check order details again for now, "
    "but a person from the store will help you here in this chat (reference {reference}). {next_steps}"
)
#: Locked by failures elsewhere (other chats, or many orders tried from one address): nothing is
#: checked, and the words are the same whichever order number was given, known or not.
IDENTITY_CHECK_PAUSED = (
    "Sorry, for your security I can't check the details of that order right now, because of too many "
    "attempts. Please try again later, or ask to talk to a person from the store."
)
#: Locked, and no person could be asked (a chat the store doesn't know, opened outside its website).
IDENTITY_CHECK_LOCKED_NOT_RECORDED = (
    "Sorry, for your security I can't check order details again in this chat. "
    "Please contact the store's customer service directly and mention this chat."
)
#: A message the bot didn't understand (the second in a row: NOT_UNDERSTOOD_ESCALATED).
NOT_UNDERSTOOD = 'Sorry, I didn\'t quite get that. I can tell you where your order is: try "where is my order?"'
NO_STORE = "This chat isn't connected to a store, so I can't look up orders. Please open the chat from the store's website."
#: The gateway's own words when the assistant gave no answer (bot/chat/unanswered.py): the message is kept and asked again.
ASSISTANT_SILENT = (
    "Sorry, the assistant isn't answering right now. Your message is saved, and you'll get the answer "
    "here as soon as it's back; you can close the page and come back later."
)

#: The delivery confirmation itself is the store's template (bot/seller/templates.py).
DELIVERY_MANUAL = "Here is the installation manual for the {product_name}."
DELIVERY_VIDEO = "And here is the installation video for the {product_name}: it walks you through every step."
DELIVERY_CLOSING = 'If anything is missing or damaged, just reply here, or ask "how do I install it?" for the steps.'

#: When a shipment is held up: the store's templates say what happened (bot/seller/templates.py); then this.
EXCEPTION_HELP = "Can I help? You can check the tracking here any time, or ask for a person from the store."
EXCEPTION_BUTTONS = [
    {"title": "Where is my order?", "payload": "/track_order"},
    {"title": "Talk to a person", "payload": "/request_human"},
]

ASK_PERSON_BUTTONS = [{"title": "Talk to a person", "payload": "/request_human"}]

#: Installation guides in the chat.
GUIDE_INTRO = "Here's how to install the {product_name}."
GUIDE_MANUAL = "The installation manual for the {product_name}:"
GUIDE_VIDEO = "The installation video for the {product_name}:"
GUIDE_STEPS_TITLE = "The steps:"
GUIDE_STUCK_HINT = 'Stuck somewhere? Tell me the step, like "stuck at step 3", and I\'ll go through it again.'
GUIDE_STEP = "Step {step} of {count} for the {product_name}: {text}"
GUIDE_NO_SUCH_STEP = "The {product_name} guide has {count} steps, so there's no step {step}. Which step are you at?"
GUIDE_STILL_STUCK = "Still stuck? Watching that part of the video usually helps, or a person from the store can help you."
GUIDE_MISSING = (
    "I'm sorry: the store hasn't given me an installation guide for the {product_name}, and I'd rather not guess. "
    "A person from the store can help you with it."
)
GUIDE_WHICH_ITEM = "Which item do you need the guide for?"
GUIDE_WHICH_PRODUCT = "Which product do you need the guide for? Tell me its name or your order number."
GUIDE_UNKNOWN_PRODUCT = 'I couldn\'t find a product called "{product}" in this store.'
GUIDE_WHICH_MATCH = "Several products fit what you wrote. Which one do you mean?"

#: Problems after delivery: what a person will need to know.
ASK_PROBLEM_DESCRIPTION = {
    "not_received": (
        "I'm sorry it hasn't reached you. Carriers sometimes mark a parcel delivered a little early, or leave it "
        "with a neighbour, at reception or in a safe place. Once you've had a look, tell me what you found: where "
        "you checked, and anything the carrier's delivery note or photo shows. A person from the store will take it from there."
    ),
    "damaged": "I'm sorry it arrived damaged. Please describe the damage in a sentence or two.",
    "missing_parts": "I'm sorry something is missing. Which parts are missing?",
    "wrong_item": "I'm sorry you got the wrong item. What did you receive instead?",
}
PROBLEM_DESCRIPTION_TOO_SHORT = "Could you tell me a little more? A sentence or two is plenty, and a photo link helps."
#: When a person is asked to help, each reply ends with {next_steps}: what the store's
#: availability honestly means (connecting now, or when a person will answer).
PROBLEM_RECORDED = (
    "Thank you. I've passed this to the store's team with your order {order_number} (reference {reference}). {next_steps}"
)
PERSON_REQUESTED = "I've asked a person from the store to help you (reference {reference}). {next_steps}"
#: The second message in a row that the bot did not understand.
NOT_UNDERSTOOD_ESCALATED = (
    "Sorry, I still didn't understand that, so I've asked a person from the store to help you "
    "(reference {reference}). {next_steps}"
)
#: {next_steps} when the store's hours can't be read.
NEXT_STEPS_LATER = "A person will reply here in this chat; you can close the page and come back later."
ESCALATION_NOT_RECORDED = (
    "Sorry, I couldn't pass this on from here. Please open the chat from the store's website, "
    "or contact the store's customer service directly."
)
#: When the store chose not to take this kind of case in the chat (its escalation settings).
PROBLEM_NOT_ESCALATED = (
    "Thank you for telling me, and I'm sorry about this. The store handles these cases outside the chat: please "
    "contact its customer service{about_order}."
)
#: Over the limits on new cases (bot/escalations.EscalationLimits), with a case open in this
#: chat: the new words were added to it.
ESCALATION_ALREADY_OPEN = (
    "We already have your request (reference {reference}), and I've added this to it: a person from the store "
    "will answer here in this chat. {next_steps}"
)
#: ... and with no case open: nothing was passed on, and the shopper is told when to try again.
ESCALATION_LIMITED = (
    "Sorry, I can't pass on another request to the store from here right now: several have been sent already. "
    "Please try again in about {wait}, or contact the store's customer service directly."
)
#: What the shopper is told once an escalation is recorded, by its reason.
ESCALATED = {
    "not_received": PROBLEM_RECORDED,
    "damaged": PROBLEM_RECORDED,
    "missing_parts": PROBLEM_RECORDED,
    "wrong_item": PROBLEM_RECORDED,
    "shopper_request": PERSON_REQUESTED,
    "not_understood": NOT_UNDERSTOOD_ESCALATED,
    "identity_check_failed": IDENTITY_CHECK_LOCKED,
}
#: ... and when it could not be recorded (the conversation is unknown to the store database).
NOT_ESCALATED = {"identity_check_failed": IDENTITY_CHECK_LOCKED_NOT_RECORDED}

#: Review invitations: the store's template (bot/seller/templates.py), the same words for every shopper, with no
#: incentive; then these buttons.
REVIEW_DECLINE_BUTTON = {"title": "No thanks, don't ask again", "payload": "/decline_review"}
ASK_REVIEW_RATING = "How many stars would you give it, from 1 to 5?"
ASK_REVIEW_COMMENT = "Thank you! Would you like to add a few words about it? Type them, or tap Skip."
#: "deny" counts as "no words": the comment is optional.
SKIP_BUTTON = {"title": "Skip", "payload": "/deny"}
REVIEW_RATING_INVALID = "Please pick a rating from 1 to 5 stars."
REVIEW_LINK = "If you'd like to post it on the store's review page too, it's here: {url}"
REVIEW_NO_ORDER = (
    "I can take a review of a delivered order of yours, but I can't see one in this chat. "
    "Open the chat from the store's website while signed in, and I'll find it."
)
REVIEW_OPTED_OUT = "Understood: we won't ask you for reviews again. Thanks for letting us know."
REVIEW_OPT_OUT_UNKNOWN = (
    "No problem, I won't ask in this chat. To stop review requests for good, open the chat from the "
    "store's website while signed in and tell me again."
)

#: Changing the subject inside a form (bot/chat/form_interruptions.py, actions/forms.py): after the other
#: request is answered, "{bridge} {question}" takes the shopper back to where the form was.
FORM_BRIDGES = {
    "order_status_form": "Back to your order:",
    "problem_report_form": "Back to your problem report:",
    "review_form": "Back to your review:",
}
#: A form added later without its own bridge.
FORM_BRIDGE_DEFAULT = "Back to where we were:"
#: The short question after a bridge, by requested slot; a slot without one gets its full question.
#: The report's photo step (damaged, missing parts, wrong item): what helps the store decide. The
#: bot never sees a photo, so nothing it says afterwards claims it looked.
ASK_PROBLEM_PHOTOS = {
    "damaged": (
        "Photos help the store decide quickly: a picture of the damage and one of the box label. Attach them with "
        "the paper clip (up to 5 at a time), or tap Skip."
    ),
    "missing_parts": (
        "Photos help the store decide quickly: a picture of everything that arrived and one of the box label. "
        "Attach them with the paper clip (up to 5 at a time), or tap Skip."
    ),
    "wrong_item": (
        "Photos help the store decide quickly: a picture of the item you received and one of its label. Attach "
        "them with the paper clip (up to 5 at a time), or tap Skip."
    ),
}
SKIP_PHOTOS_BUTTON = {"title": "Skip", "payload": "/deny"}
#: After the report is recorded, when photos went with it (``{count}`` of them).
PHOTOS_WITH_REPORT = "Your photos ({count}) are with your report for the store's team."
#: Photos sent while a case is open: they joined it (bot/web/turns.py).
PHOTOS_ADDED_TO_CASE = "Thanks, your photos are added to your request {reference} for the store's team."
#: Photos sent with no case open: kept in the chat until a report takes them.
PHOTOS_KEPT = (
    "Thanks, your photos are saved in this chat. If something is wrong with your order, tell me what happened "
    "and I'll pass them to the store's team with your report."
)
#: What the agent console's "Ask for more photos" sends (the widget adds its upload button).
AGENT_PHOTO_REQUEST = (
    "Could you send a few more photos? Tap the paper clip to add them (up to 5 at a time): the whole item, "
    "the damage up close, and the label on the box."
)
#: Photos sent while a report is under way but before its photo step: it takes them.
PHOTOS_KEPT_FOR_REPORT = "Thanks, your photos are saved; they'll go with your report."
PHOTOS_KEPT_BUTTONS = [
    {"title": "It arrived damaged", "payload": "/report_damaged"},
    {"title": "Parts are missing", "payload": "/report_missing_parts"},
    {"title": "Wrong item", "payload": "/report_wrong_item"},
]

SHORT_QUESTIONS = {
    "order_number": "what's the order number?",
    "order_verification": "what's the email address or the shipping postcode on the order?",
    "problem_description": "what happened? A sentence or two is plenty.",
    "problem_photos": "could you attach photos with the paper clip? Or tap Skip.",
    "review_rating": "how many stars would you give it, from 1 to 5?",
    "review_comment": "would you like to add a few words about it? Type them, or tap Skip.",
}
#: The second answer in a row that the form could not use: choices instead of the question again.
FORM_CHOICES = (
    "Sorry, I still can't use that. Would you like to try again, talk to a person from the store, or ask something else?"
)
FORM_CHOICE_BUTTONS = [
    {"title": "Try again", "payload": "/affirm"},
    {"title": "Talk to a person", "payload": "/request_human"},
    {"title": "Something else", "payload": "/stop"},
]

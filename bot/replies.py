"""What the assistant says from its actions, in the shopper's language (English).

Kept as data in one place so that sellers' own templates can replace them.
"""

ASK_ORDER_NUMBER = (
    "Sure, I can check that. What's your order number? "
    "It looks like FZ-20931, #1047 or 113-4928371-0029384."
)
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
IDENTITY_CHECK_LOCKED = (
    "Sorry, those details still don't match an order. For your security I won't try again in this chat. "
    "A person from the store can help you: please contact the store's customer service and mention this chat."
)
NO_STORE = (
    "This chat isn't connected to a store, so I can't look up orders. "
    "Please open the chat from the store's website."
)

#: The store's first message after the carrier marks the parcel delivered.
DELIVERY_CONFIRMATION = (
    "Hi {first_name}, good news from {store_name}: your order {order_number} was delivered{when}. "
    "It contained {item_names}. We hope everything arrived in perfect condition!"
)
DELIVERY_MANUAL = "Here is the installation manual for the {product_name}."
DELIVERY_VIDEO = "And here is the installation video for the {product_name}: it walks you through every step."
DELIVERY_CLOSING = 'If anything is missing or damaged, just reply here, or ask "how do I install it?" for the steps.'

#: When a shipment is held up: what happened, and what the shopper can do.
EXCEPTION_NOTICES = {
    "Exception": (
        "Hi {first_name}, an update on your order {order_number}: the {carrier} parcel {tracking_number} is held up"
        "{latest}. Most holds are customs checks that clear in 2–5 business days. If import duty or paperwork is "
        "needed, {carrier} will contact you, and paying promptly is the fastest way to release it."
    ),
    "AttemptFail": (
        "Hi {first_name}, {carrier} tried to deliver your order {order_number} but couldn't{latest}. They usually "
        "try again on the next business day, or leave a notice saying how to rebook the delivery or collect it."
    ),
    "AvailableForPickup": (
        "Hi {first_name}, your order {order_number} is waiting for you at a pickup point{latest}. Bring an ID and "
        "the tracking number {tracking_number}; pickup points usually hold parcels for 7–14 days."
    ),
}
EXCEPTION_HELP = "Can I help? You can check the tracking here any time, or ask for a person from the store."
EXCEPTION_BUTTONS = [
    {"title": "Where is my order?", "payload": "/track_order"},
    {"title": "Talk to a person", "payload": "/request_human"},
]

"""Shoppers' and agents' photos (issue 18): a damaged, wrong or incomplete delivery shown to the
store. :mod:`bot.photos.images` checks what was sent from its content alone and re-encodes it as a
JPEG and a thumbnail without a single metadata field; :mod:`bot.photos.storage` keeps the bytes
behind one interface (the database, the local disk or S3-compatible object storage), and
:mod:`bot.photos.conversation_photos` ties each photo to its conversation and store, so that only
that conversation's shopper and that store's agents and sellers can see it, under an unguessable id."""

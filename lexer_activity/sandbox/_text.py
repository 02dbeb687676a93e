# ruff: noqa: RUF001  (full-width punctuation is correct in the CJK samples)
"""Messy free text for the CSV exports: what real social care traffic looks like.

Commas, double quotes, LF and CRLF line breaks inside fields, emoji (with skin tones and
ZWJ sequences), CJK, Arabic and Cyrillic scripts, empty fields and the odd message of
several KB. Every string is derived from a seeded Random, so exports are reproducible.
"""

from __future__ import annotations

import random

_OPENERS = (
    "Hi there", "Hello", "Hey @AcmeCare", "G'day", "Um, hello?", "To whom it may concern",
    "Hi team 👋", "Good morning", "", "URGENT",
)
_ISSUES = (
    "my order #{n} still hasn't arrived, and it's been {d} days",
    'the tracking page just says "in transit" since Monday',
    "I was charged twice for the same thing, $49.95 and $49.95",
    "your app logs me out every time I open it 😤",
    'the courier left a card saying "sorry we missed you" but I was home all day',
    "can you change the delivery address? I've moved, new one is 12 Smith St, Newtown",
    "loved the service today, Priya was brilliant 🙌🏽",
    "the promo code SAVE20 doesn't work at checkout, it says \"invalid\"",
    "is the store on George St open on the public holiday?",
    "I'd like a refund, the item arrived broken 💔",
    "my account is locked, I tried resetting the password 3 times",
    "why does the website say \"out of stock\" when the store has it?",
    "just wanted to say thanks, you sorted it in 5 minutes 👩\u200d💻✨",
)
_FOREIGN = (
    "注文した商品がまだ届きません。確認していただけますか？",
    "你好，我的账户被锁定了，怎么办？",
    "배송이 언제 오나요? 주문번호 {n}",
    "مرحبا، طلبي لم يصل بعد، هل يمكنكم المساعدة؟",
    "Здравствуйте! Заказ №{n} до сих пор не пришёл, «трек» не обновляется.",
    "Xin chào, tôi muốn đổi địa chỉ giao hàng.",
    "Γεια σας, η παραγγελία μου ήρθε χαλασμένη.",
    "שלום, אני צריך עזרה עם החשבון שלי",
)
_CLOSERS = (
    "Thanks", "Cheers", "Please help!!", "🙏", "Regards,\nSam", "thx", "", "😡😡😡",
    "Kind regards,\r\nDr. Amelia O'Neil\r\nSent from my iPhone", "🇦🇺", "...",
)
_REPLIES = (
    "Hi {name}, thanks for reaching out! Could you DM us your order number?",
    "Sorry to hear that, {name}. I've raised this with the courier, expect news in 24 hours.",
    'Hi {name}, that "invalid" message means the code expired, I\'ve applied a $20 credit.',
    "Thanks {name}! I've passed your kind words on to the team 😊",
    "Hi {name},\nI've refunded $49.95 to your card; allow 3-5 business days.\nCheers",
    "こんにちは、{name}様。ご注文番号を教えていただけますか？",
    "Здравствуйте, {name}! Мы уже проверяем ваш заказ.",
    "مرحبا {name}، شكراً لتواصلك معنا",
)
_NOTES = (
    "Customer called twice, see case notes", 'Escalated to billing, ref "INC-{n}"',
    "VIP customer, handle with care ⭐", "Duplicate of earlier tweet,\nclosed",
    "Refund approved by team lead\r\nAmount: $49.95", "Possible fraud? Checked with Dmitri",
    "客户要求中文回复", "Follow up Monday",
)
_FIRST = (
    "Olivia", "Jack", "Amelia", "Noah", "Charlotte", "William", "Mia", "Oliver", "Zoë",
    "Seán", "Nguyễn", "Yuki", "Ahmad", "Анастасия", "李", "محمد", "Renée", "José", "Ngaio",
)
_LAST = (
    "Smith", "O'Connor", "Tran", "Wang", "Jones", "García-López", "Müller", "Kim", "Brown",
    "Иванова", "明", "العلي", "D'Souza", "Van der Berg", "", "Nakamura", "\"Jonno\" Jones",
)
_LOREM = (
    "So here is the whole story, because the last three people I spoke to each asked me "
    "to start again from the beginning, which, frankly, is exhausting. "
)


def customer_name(rng: random.Random) -> str:
    """A customer's full name, sometimes in a non-Latin script, sometimes with quotes."""
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}".strip()


def customer_handle(rng: random.Random, source_type: str, name: str) -> str:
    """A username fitting the channel: an @handle, a page-scoped name or an address."""
    stem = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:12] or "user"
    number = rng.randrange(1, 9999)
    if source_type == "email":
        return f"{stem}{number}@example.com"
    if source_type in ("twitter", "instagram"):
        return f"@{stem}_{number}"
    return f"{stem}.{number}"


def customer_message(rng: random.Random) -> str:
    """A customer message; roughly 2% are empty and 1% run to several KB."""
    roll = rng.random()
    if roll < 0.02:
        return ""
    number = rng.randrange(100_000, 999_999)
    if roll < 0.14:
        text = rng.choice(_FOREIGN).format(n=number)
    else:
        issue = rng.choice(_ISSUES).format(n=number, d=rng.randrange(2, 30))
        opener = rng.choice(_OPENERS)
        text = f"{opener}, {issue}" if opener else issue[:1].upper() + issue[1:]
    closer = rng.choice(_CLOSERS)
    if closer:
        text += rng.choice((" ", "\n", "\r\n", "\n\n")) + closer
    if roll > 0.99:
        text += "\n\n" + _LOREM * rng.randrange(12, 60)
    return text


def agent_response(rng: random.Random, customer_first_name: str, agent_initials: str) -> str:
    """An agent's reply, signed with the agent's initials as care teams do."""
    reply = rng.choice(_REPLIES).format(name=customer_first_name or "there")
    return f"{reply} ^{agent_initials}"


def agent_note(rng: random.Random) -> str:
    """An internal note; most messages have none."""
    if rng.random() < 0.75:
        return ""
    return rng.choice(_NOTES).format(n=rng.randrange(1000, 99999))


def customer_note(rng: random.Random) -> str:
    """A note on the customer's profile; most have none."""
    if rng.random() < 0.85:
        return ""
    return rng.choice(("Prefers DMs", "Has complained before, see notes", "Speaks 日本語",
                       'Calls herself "the loyal one"', "Address: 1/23 King St,\nSydney NSW"))


def nps_comment(rng: random.Random, score: int) -> str:
    """The free-text answer that comes with an NPS score, often empty."""
    if rng.random() < 0.4:
        return ""
    pool: tuple[str, ...]
    if score >= 9:
        pool = ("Great service, thanks!", "Fast, friendly 👍🏼", "Priya was amazing,\nthank you",
                "非常满意", "Лучший сервис!", 'Would recommend, "no worries" attitude')
    elif score >= 7:
        pool = ("It was ok", "Took a while, but sorted", "Fine, I guess.\r\nApp is slow though",
                "まあまあです")
    else:
        pool = ("Waited 3 days for a reply 😡", "Terrible, still no refund",
                'Your "support" is a bot', "لم يتم حل مشكلتي", "Never again,\nnever")
    return rng.choice(pool)

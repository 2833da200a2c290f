"""The simulator's token text: English words that are one ``cl100k_base`` token each.

Every entry of :data:`VOCABULARY`, with the leading space it is sent with (``" model"``), encodes
to exactly one cl100k_base token, and cl100k_base's pre-tokenizer splits a run of such words at
each space, so tiktoken counts a simulated answer at exactly the number of tokens the server says
it sent.
"""

from __future__ import annotations

import random

__all__ = ["VOCABULARY", "draw_tokens"]

_WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when if so "
    "no will more can who out about up them some could what into than then its time only "
    "other new these may any like now over such our man very just first most also did after "
    "made many before must well back through years where much your way down should because "
    "long each those people state good how both own work between life being under never day "
    "same another know while last might us great old year off come since against go came "
    "right used take three himself few house use during without again place around however "
    "home small found thought went say part once general high upon school every does got "
    "united left number course war until always away something fact though water less public "
    "put think almost hand enough far took head yet government system better set told nothing "
    "night end why called eyes find going look asked later knew point next program city "
    "business give group toward young days let room president side social present given "
    "several order national possible rather second face per among form important often things "
    "looked early white case become large big need four within felt along children saw best "
    "church ever least power development light thing seemed family interest want members mind "
    "country area others done turned although open problem sense began help whole men world "
    "door together perhaps policy either line means care field local question market body "
    "music kind clear full data word model answer simple quiet river mountain garden window "
    "morning evening summer winter spring autumn story paper letter book table chair road "
    "street village town valley forest ocean island bridge tower castle harbor station train "
    "ship boat plane car bicycle horse dog cat bird fish tree flower grass stone sand cloud "
    "rain snow wind storm sun moon star sky fire earth metal glass wood gold silver iron "
    "steel bread milk coffee tea sugar salt fruit apple orange lemon cheese butter dinner "
    "lunch breakfast kitchen bedroom office library museum theater hospital doctor teacher "
    "student writer painter farmer worker soldier captain king queen prince friend brother "
    "sister mother father daughter son child baby woman girl boy person crowd team class club "
    "company bank shop store price value cost money pound dollar level rate plan project "
    "report study result reason method theory idea view voice sound song picture image color "
    "shape size weight speed distance length height depth energy force pressure heat cold "
    "warm bright dark soft hard heavy strong weak quick slow easy difficult happy sad angry "
    "calm gentle brave honest careful useful modern ancient famous private common special "
    "certain recent final natural human physical political economic cultural personal basic "
    "central main major minor single double real true false free busy ready sure clean fresh "
    "rich poor wide narrow deep short tall thin thick fine fair sweet bitter loud silent "
    "empty green blue red yellow black brown grey purple pink walk run jump swim climb fly "
    "drive ride read write speak listen watch learn teach build break carry catch throw hold "
    "keep leave meet move play pull push reach send show sleep stand stay stop talk travel "
    "try wait wash wear win wonder worry agree allow appear arrive begin believe borrow "
    "change choose close collect continue create decide describe discover explain follow "
    "forget imagine improve include invite join laugh mention notice offer prepare promise "
    "protect provide remember repeat return share smile suggest support visit gather wander "
    "whisper shine grow rise fall turn pass spend raise serve sell buy pay cover cross fill "
    "mark miss plant press print rest roll save count dream hope wish paint "
)

#: The words, without their leading space.
VOCABULARY: tuple[str, ...] = tuple(_WORDS.split())


def draw_tokens(rng: random.Random, n: int) -> list[str]:
    """``n`` token texts (each ``" word"``), drawn from :data:`VOCABULARY` with ``rng``."""
    return [" " + word for word in rng.choices(VOCABULARY, k=n)]

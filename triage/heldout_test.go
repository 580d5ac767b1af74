package triage_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hotline-az/hotline"
	"github.com/hotline-az/hotline/triage"
)

// Held-out sets: tips written before the rules were tuned on them, to check
// that the rules generalise beyond the dev set and labelled.jsonl.
//
//   - heldout.jsonl was scored before the rules were changed for it (P1
//     recall 0.849, P1 precision 0.823, priority accuracy 0.825), then the
//     rules were improved using it;
//
//   - heldout2.jsonl was written after that, without looking at which rules
//     fire for it, and scored once blind (P1 recall 0.755, P1 precision
//     0.870, priority accuracy 0.740) before the rules were fixed for it;
//
//   - heldout3.jsonl was written the same way after the rules had been fixed
//     for both, and scored once blind (P1 recall 0.765, P1 precision 0.780,
//     priority accuracy 0.740, language accuracy 0.993) before the rules
//     were fixed for it;
//
//   - heldout4.jsonl holds plainer tips, in the style of the shared dev set,
//     written and scored blind last (P1 recall 0.969, P1 precision 1.000,
//     priority accuracy 0.989, language accuracy 0.989);
//
//   - heldout5.jsonl and heldout6.jsonl were written after the safety nets
//     (rules distress and threat_cond, *ending patterns) were added, and
//     scored once blind: heldout5 P1 recall 0.850, P1 precision 0.962,
//     priority accuracy 0.891, language accuracy 1.000; heldout6 P1 recall
//     0.689, P1 precision 0.875, priority accuracy 0.726, language accuracy
//     0.993. The rules were then fixed for them.
//
//   - heldout7.jsonl (174 tips: az in Latin and Cyrillic letters, ru in
//     Cyrillic and typed in Latin, en; indirect wording, typos, many harmless
//     look-alikes) was written blind after batches 5 and 6 were fixed, to
//     measure a learned "second opinion" that could only raise tips to P1
//     (logistic regression over hashed words, word pairs and 4-grams of the
//     normalised text, trained on all the other sets). Scored once blind, the
//     rules alone gave P1 recall 0.859, P1 precision 0.902, priority accuracy
//     0.885, language accuracy 0.994, category accuracy 0.701. Rules plus the
//     model, at the threshold chosen beforehand on heldout5 (probability 0.6),
//     gave P1 recall 0.906 but P1 precision 0.879 (5 tips raised, 3 rightly),
//     priority accuracy 0.897; no threshold kept precision at 0.9 with any
//     gain in recall, so the model was not adopted. (Cross-check: trained
//     without heldout5 and 6, with the rules of commit c1b956b, which had not
//     seen heldout6, it took heldout6 from P1 recall 0.689 / precision 0.875
//     to 0.869 / 0.869.) Afterwards three tips about a minor's arranged
//     marriage weeks away were relabelled P2 -> P1, as every other set labels
//     the marriage of a minor (child at risk); with those labels the blind
//     rules' figures are P1 recall 0.851, P1 precision 0.934, priority
//     accuracy 0.897. The rules were then fixed for it (hyperbolic "kill"
//     about work, reports or parents; children led away by strangers; organs
//     taken against someone's will; people taken away against their will;
//     hurt workers hidden from a doctor; pleas signalled from a window).
//
//   - heldout8.jsonl (185 tips: az in Latin letters, without diacritics and
//     in Cyrillic letters, ru in Cyrillic and typed in Latin, en; indirect
//     wording, witness reports, typos, many harmless look-alikes) was
//     written blind after batch 7 was fixed, committed, and scored once with
//     the rules of that commit: P1 recall 0.814 (57 of 70), P1 precision
//     0.877 (57 of 65), priority accuracy 0.854, language accuracy 1.000,
//     category accuracy 0.697. The rules were then fixed for it (organs
//     taken under threat or force; covert pleas: a note, a mouthed "help" or
//     "police"; a child followed day after day; online grooming (P2);
//     control of money and friends (P2); weddings where children are guests,
//     not brides; quarrels, jokes, airlines and ambulances already called;
//     an age between commas, "my niece, 14, ...", now reads as one clause).
//
//   - heldout9.jsonl (180 tips in the style and mix of the shared dev set:
//     az in Latin letters with and without diacritics and in Cyrillic
//     letters, ru in Cyrillic and typed in Latin, en with typos; 80 P1, 54
//     P2, 46 P3; new places, trades and relations: fishing boats, carpet
//     workshops, car washes, hotels, farms, building sites, nightclubs;
//     cousin, landlord, foreman, driver, stepfather) was written blind after
//     batch 8 was fixed, committed (a40f2b9) and scored once with the rules
//     of that commit: P1 recall 0.975 (78 of 80), P1 precision 0.975 (78 of
//     80), priority accuracy 0.939, language accuracy 1.000, category
//     accuracy 0.794. Missed P1: a threat to throw a worker who talks into
//     the sea ("kim danışsa dənizə atacaq"), begging children beaten by the
//     man who takes their money ("... забирает у них всё и бьёт"). False P1:
//     an employer "удерживает документы двоюродного брата" (documents held,
//     read as the cousin held), a football "убили их в финале". P2 read as
//     P3: passports collected into a safe, a kidney for a debt, a fare to
//     work off, an agency wanting passports in advance, money "вперёд", a
//     housekeeper working "без денег", a job offer with "don't tell family,
//     documents not needed". The rules were then fixed for it (threats to
//     throw someone overboard; beaten beggars whoever the object; holding a
//     document is not holding its owner; sport for threats; documents
//     collected; organs for a debt; working a debt off; passports and money
//     in advance, secrecy and no documents as red flags; unpaid work "without
//     money"; the Azerbaijani *ending conditionals only in Azerbaijani tips,
//     as Russian "ищем" ends like "getsəm"; children lured into a car).
//
//   - heldout10.jsonl (160 tips in the style and mix of the shared dev set, 68
//     P1, 44 P2, 48 P3; 66 az, 51 ru, 43 en; new perspectives: panic typing
//     with few words and typos, teenagers' slang, older people's formal
//     wording, mixed az-ru sentences, numbers, addresses and times, relatives
//     abroad in Russia, Turkey, the UAE, Iran and Georgia, and hard negatives:
//     news, films, games, jokes, job questions, hyperbole) was written blind
//     after batch 9 was fixed, committed (ebab0f5) and scored once with the
//     rules of that commit. Blind figures: P1 recall 0.912 (62 of 68), P1
//     precision 0.939 (62 of 66), priority accuracy 0.875, language accuracy
//     0.994, category accuracy 0.719. Missed P1: a grandchild kept in a house
//     in Turkey "evdə saxlayır, bizə qaytarmır"; a 15-year-old to be taken to
//     Iran at 6 tomorrow ("aparacaqlar"); a girl of nine tied to a radiator
//     ("привязывают к батарее"); begging toddlers kicked ("pinaet"); "guards
//     with dogs, they beat those who try to leave"; a niece of 13 taken across
//     the border tonight, "a man paid her dad". False P1: "boss took her id
//     ... wont give it back" (read as her taken), a phone locked ("telefonum
//     kilidlənib, açmağa kömək edin"), a game about rescuing hostages, "шеф
//     нас в рабство продал" (a joke about working Saturday). P2 read as P3:
//     documents at the boss's / taken "na oformlenie", unpaid months with a
//     fare to work off, new girls brought to a house every month who never go
//     out, agencies taking a fee with no contract, documents or passport to be
//     left with a recruiter, a neighbour's housekeeper who never leaves, "easy
//     money abroad" offered to teens. P3 read as P2: "gecə də işləyir?" (is
//     the hotline open at night). Language: "test", labelled az, read as en.
//     The rules were then fixed for it (a person kept and not given back to
//     the family; people tied to a radiator; kicking; "beat those who try to
//     leave" and guard dogs; a locked phone or screen; games and jokes about
//     slavery; "took her id" is a document taken, not her; a child taken
//     abroad or across a border by others soon, and a man who "paid her dad";
//     documents at the boss's or taken "for processing" and not returned;
//     unpaid months and a fare to work off, in mixed az-ru; fees, documents
//     left with a recruiter, "easy money" and no contract as red flags;
//     someone who "hasn't left the building"; new girls brought to a house
//     again and again; questions about the hotline's own hours; Russian "shch"
//     typed in Latin now matches щ).
//
//   - heldout11.jsonl (150 tips in the dev set's mix: 70 P1, 38 P2, 42 P3;
//     60 az in Latin letters with and without diacritics and in Cyrillic
//     letters, 50 ru in Cyrillic and typed in Latin, 40 en; relatives kept or
//     not returned abroad, children moved across borders, restraint, guards,
//     dogs and cameras, people sold to or bought by someone, documents held,
//     unpaid wages and travel debts, recruiters' red flags, and hard
//     negatives: locked phones and accounts, games, jokes about slavery at
//     work, news, hyperbole, job and visa questions) was written blind after
//     batch 10 was fixed, committed (036b63b) and scored once with the rules
//     of that commit. Blind figures: P1 recall 0.914 (64 of 70), P1
//     precision 0.941 (64 of 68), priority accuracy 0.907, language accuracy
//     1.000, category accuracy 0.753. Missed P1: a boy of 10 a neighbour
//     will take to Iran tomorrow morning ("İrana aparacaq"); builders locked
//     in a container at night ("konteynerdə bağlayırlar"); a girl handcuffed
//     and put in a car ("надели наручники"); a boy of 11 to be taken across
//     the border by strangers ("повезут через границу"); children driven
//     through a border town with false documents, no relative with them; a
//     niece not returned from the Emirates, hidden by the family she worked
//     for ("не возвращают ... прячет её", read as a question). False P1: a
//     child locking a parent in a room in play ("oyun oynayırıq"); a
//     nanny abroad whose phone the host took and who may not talk to anyone
//     (labelled P2); "шеф держит нас до девяти, рабство какое-то, ха-ха"; a
//     game where you "free the prisoners from the dungeon". P2 read as P3: a
//     waitress job in Turkey for young girls only, "no documents needed"; a
//     child of 12 washing dishes in a cafe until night; a woman recruiting
//     girls of 16 for Turkey again; a girl next door never seen to leave the
//     house. The rules were then fixed for it (handcuffs; "will take" and
//     "повезут" as taking; a child taken while the parents do not know; children
//     moved with false documents or an escort who is not a relative; a person
//     not returned or sent home, in Russian and English, and a person hidden;
//     workers locked in at a workplace even with a curfew word; play and
//     "just checking the number"; jokes ("ха-ха", "рабство какое-то") and games
//     for confinement; waitress and nanny jobs as offers; a child washing
//     dishes; work as a pretext; "never saw her leave the house" in two
//     clauses). The nanny whose phone was taken stays P1 (rule isolated), as
//     in the earlier sets.
//
//   - heldout12.jsonl (120 tips in the dev set's mix: 53 P1, 35 P2, 32 P3;
//     50 az in Latin letters with and without diacritics and in Cyrillic
//     letters, 38 ru in Cyrillic and typed in Latin, 32 en; about a third P2
//     and P3 tips easy to confuse: recruitment ads, debts, documents, late
//     pay, questions about work abroad and the law) was written blind after
//     batch 11 was fixed, committed (c6005d3) and scored once with the rules
//     of 84edb53. Blind figures: P1 recall 0.981 (52 of 53), P1 precision
//     0.981 (52 of 53), priority accuracy 0.958, language accuracy 0.983,
//     category accuracy 0.858. Missed P1: disabled people forced to beg at
//     the metro with a guard watching ("охранник следит", read P2). False
//     P1: a boss keeping the workers' ID cards in a safe and not giving them
//     back ("vəsiqələrini seyfdə saxlayır, geri vermir", read as the workers
//     held). P2 read as P3: a woman offering village girls well-paid work in
//     Turkey, "valideynlərə deməyin". P3 read as P2: late pay with "how do I
//     complain" ("maaşı gecikdirir, ... necə şikayət edim?"); a bank debt
//     and travel abroad ("I owe money to a bank, can they stop me traveling
//     abroad?"). Language: "test", labelled az, read as en (the sets label
//     it both ways); "vy rabotaete kruglosutochno?" read as az. The rules
//     were then fixed for it (documents kept, in Azerbaijani, directly or in
//     a safe, office or "with him", are documents held, not people; forced
//     begging under a guard or overseer is P1; keeping a recruit's secret
//     from parents as a red flag in Azerbaijani; late pay is its own P2 rule,
//     P3 when the tip asks how or where to complain; debts to a bank, on a
//     loan or a card are not debt bondage; the Russian -ете ending typed in
//     Latin). After the fixes: P1 recall 1.000, P1 precision 1.000, priority
//     accuracy 1.000, language accuracy 0.992 ("test" stays en).
//
//   - heldout13.jsonl, heldout15.jsonl and heldout16.jsonl (120 tips each,
//     50 P1, 35 P2, 35 P3; 48 az with and without diacritics and in
//     Cyrillic letters, 40 ru in Cyrillic and typed in Latin, 32 en) were
//     written blind by three different writers after batch 12 was fixed:
//     plain tips from new workplaces, places and relations (13), panicked
//     first-person texts with typos (15), relatives reporting about family
//     members (16). Scored once with the rules of 33ab403, the rules alone
//     gave P1 recall 0.940 on each (47 of 50), P1 precision 0.979 / 1.000 /
//     0.979, priority accuracy 0.925 / 0.933 / 0.950, language accuracy
//     1.000 / 0.992 / 1.000. Their misses are young girls married off or
//     taken "tonight" written in translit or English, a woman being put into
//     a car, "they sold me", beatings heard next door, a sister sold in
//     Istanbul written in Cyrillic Azerbaijani, begging children "at the
//     station right now". These batches led to the second opinion
//     (model.go): trained on every other examples file, with the threshold
//     0.6 chosen beforehand, rules and model together gave P1 recall 0.980 /
//     1.000 / 0.980, P1 precision 0.980 / 1.000 / 0.942 on them
//     (TestSecondOpinionOnBlindSets with TRIAGE_BLIND reproduces this).
//
//   - heldout14.jsonl (witnesses: drivers, hotel staff, teachers,
//     neighbours) and heldout17.jsonl (boundary cases: danger told calmly or
//     indirectly, P2 signs in alarming words, harmless alarm words, past
//     events), 120 tips each in the same mix, were written blind by two more
//     writers and scored once with the commit that added the second opinion
//     (bd9b420), whose model had not seen them. Rules and model: heldout14 P1
//     recall 0.960 (48 of 50), P1 precision 0.960, priority accuracy 0.942;
//     heldout17 P1 recall 0.980 (49 of 50), P1 precision 0.961, priority
//     accuracy 0.942; language accuracy 1.000 on both. The rules alone gave
//     P1 recall 0.920 and 0.640 (indirect threats such as "твоей матери не
//     жить" and "ends up in the river", doors locked from outside, "we
//     haven't been outside since March"). Missed with the model: a cook
//     beating a 13-year-old dishwasher (translit ru), children begging under
//     a man in a car "still there", "we havent been outside this flat since
//     march". False P1 from the model: children doing housework instead of
//     school (P2). The rules were then fixed for batches 13 to 17 (a minor
//     married off "tonight", "zamuzh", "gəlin köçürür", "is 14"; begging
//     children with a man who takes the money "still there" or "bu saat";
//     doors locked "from outside", "выходить нельзя", "haven't been outside";
//     "if you run, your mother won't live", "ends up in the river", "will pay
//     for it", "cəzalandıracaq"; "they sold me" even near a car, but not
//     "sold me a phone"; a child beaten anywhere but at school; housemaids
//     and dishwashers as people). Rules alone, after the fixes: P1 recall
//     0.980 / 0.940 / 1.000 / 1.000 / 0.940 on batches 13 to 17; with the
//     model 1.000 / 0.980 / 1.000 / 1.000 / 1.000 (no longer blind).
//
//   - heldout18.jsonl to heldout22.jsonl (120 tips each, 50 P1, 35 P2, 35
//     P3, the same language mix) were written blind by five more writers
//     after batches 13 to 17 were fixed: the dev set's own style (18),
//     regional and less schooled Azerbaijani with Russian loanwords (19),
//     migrant workers and foreign workers, broken English (20), fragments of
//     1 to 4 words and long messages with the danger in the middle (21),
//     several matters in one tip, second-hand reports (22). Scored once with
//     f8f6299, rules and model (neither had seen them): P1 recall 1.000 /
//     1.000 / 1.000 / 0.960 / 0.980, P1 precision 1.000 / 1.000 / 0.962 /
//     1.000 / 0.907, priority accuracy 0.983 / 0.950 / 0.942 / 0.925 /
//     0.917, language accuracy 1.000 / 0.992 / 1.000 / 1.000 / 0.992. In all,
//     247 of 250 P1 found (0.988) at a P1 precision of 0.972. The rules alone
//     found 231 (0.980 / 0.940 / 0.880 / 0.940 / 0.880). Missed: "везут через
//     границу" (three women driven across the border), a friend "locked in"
//     in a long message that also says "last month", a girl being hit next
//     door after "lol my landlord is killing me". False P1: jokes about a boss
//     with 😂, "this schedule is killing me", documents "taken from us" read
//     as people taken, "can't leave until I pay" (debt bondage, P2). The
//     rules were then fixed for them (Azerbaijani typed on a Russian
//     keyboard: дж for c, ю for ü in ёлдюр; people put into a car; taken
//     across a border; begging with an outstretched hand or selling tissues;
//     sold "as slaves"; clients tonight with a plea or force; confinement
//     that goes on "this morning" despite an older story; laughing emoji as
//     "haha"; documents taken "from us"; debt before leaving).
//
//   - heldout23.jsonl to heldout25.jsonl (120 tips each, same mix) were
//     written blind by three more writers after batches 18 to 22 were fixed:
//     the dev set's style by a second author (23), spelling chaos (Latin
//     translit with 6 for ш and 4 for ч, SMS English, Azerbaijani typed on a
//     Russian keyboard with я for ə) (24), professionals writing formally,
//     and spam (25). Scored once with 98f4443, rules and model: P1 recall
//     1.000 / 1.000 / 0.980, P1 precision 0.980 / 0.962 / 0.980, priority
//     accuracy 0.983 / 0.933 / 0.933, language accuracy 0.992 / 0.983 /
//     1.000; 149 of 150 P1 found. Rules alone: 0.980 / 0.820 / 0.900.
//     Missed: a teacher's pupil "of the 7th grade" taken to the village to be
//     married today. False P1: an organ offer ("продать часть печени"), a
//     kidney offer with "if", a boss who "will kill me" with "))", migrants'
//     passports kept by the employer. The rules were then fixed for them (a
//     kitchen or shop hides a weapon, not a beating: unless groups "a+b";
//     6 and 4 inside Latin words; "putting her in a car"; children watched
//     from a car; pupils and grades as minors; an escort who will not let an
//     injured woman speak; people sold "tonight" whatever else is named;
//     SMS spellings 2nite, tmrw, ppl).
//
//   - heldout26.jsonl to heldout28.jsonl (120 tips each, same mix) were
//     written blind by three more writers after batches 23 to 25 were fixed
//     and jokes were scoped to their sentence: the dev set's style by a third
//     author (26), a realistic night's mix with follow-ups ("it's me again,
//     they moved us") (27), hard negatives full of danger words (28). Scored
//     once with 8933e2e, rules and model: P1 recall 0.980 / 0.980 / 1.000,
//     P1 precision 0.980 / 1.000 / 0.909, priority accuracy 0.942 / 0.950 /
//     0.883, language accuracy 0.992 / 0.992 / 0.983; 149 of 150 P1 found,
//     P1 precision 0.968. Rules alone: 0.920 / 0.920 / 0.840. Missed: a
//     woman held in a hospital for her kidney (az). False P1: a phone
//     "blocked" in Cyrillic Azerbaijani, past confinement with documents
//     still held (twice), a boss who "will kill me" for oversleeping, an
//     escape room. The rules were then fixed for them (organs and
//     confinement together; burns; "начали бить"; guards at the door even
//     at night; windows boarded up; "найдём твою мать"; "zarafat deyil" is
//     not a joke; documents still held after a danger ended are P2; escape
//     rooms and team building; a blocked phone). A veto that made the model
//     need 0.9 whenever an unless-list stopped a P1 rule was tried and
//     dropped: on batches 13 to 28 it removed one false P1 and lost one real
//     one.
//
//   - heldout29.jsonl to heldout33.jsonl (about 150 tips each: 53 P1, 51
//     P2, 46-48 P3; a third in each language, Azerbaijani in Latin with and
//     without diacritics, in Cyrillic and typed on a Russian keyboard,
//     Russian in Cyrillic and translit) were written for issue 13 by five
//     independent writers who had never seen the rules, each with a brief
//     of their own and the definitions of P1 (danger now or within days),
//     P2 and P3: a frightened victim on a cheap phone (29), unsure
//     witnesses (30), professionals writing formally (31), teenagers in
//     slang and mixed scripts (32), migrants in their second language (33).
//     Each was scored blind before anything was tuned to it. Batches 29 and
//     30 with the rules and model of main 9f47bb4 (two-class model raising
//     at 0.6, no imminence, no weak rules): rules alone P1 recall 0.698 /
//     0.774, P1 precision 0.787 / 0.672, priority accuracy 0.780 / 0.735;
//     rules and model P1 recall 0.849 / 0.868, P1 precision 0.789 / 0.667,
//     priority accuracy 0.820 / 0.762; language accuracy 1.000. Batches 31
//     to 33 with b0a4703, "triage: imminence (word list imminent, ...)"
//     (imminence, weak rules, reassurance, theft
//     fixed for 29 and 30; model not trained on 29 to 33): rules alone P1
//     recall 0.808 / 0.725 / 0.887, P1 precision 0.764 / 0.822 / 0.855,
//     priority accuracy 0.762 / 0.750 / 0.836; rules and model P1 recall
//     0.923 / 0.941 / 1.000, P1 precision 0.842 / 0.787 / 0.768, priority
//     accuracy 0.828 / 0.803 / 0.829; language accuracy 1.000 (main scored
//     them at P1 recall 0.885 / 0.902 / 0.962, P1 precision 0.730 / 0.708 /
//     0.750, priority accuracy 0.768 / 0.757 / 0.809). Their misses: P2
//     situations read as P1 without any sign of imminence (a child's
//     engagement "next summer", children begging for a controller every
//     day, a housemaid "not beaten, but cannot go out"), ambiguous verbs
//     (a wallet "украли", a door "bağladıq"), a false alarm corrected in the
//     same text, professionals' case summaries of past harm; P1 told
//     indirectly: "cavab yazmayın, telefona baxır", "tonight they move us",
//     "sabah xəstəxanaya aparırlar" for a kidney, "bu gecə birinci müştəri
//     gəlir", a 16-year-old to be picked up "bu gecə saat 2də"; recruitment
//     and grooming online (hostess jobs, "send pics", a sugar daddy) read as
//     P3. The rules were then fixed for them (imminence as its own signal,
//     exploitation_soon, weak rules and the decision table, theft, covert
//     contact, reassurance, online lures) and they joined the examples the
//     model learns from. Afterwards, with the rules fixed for all five and
//     a model trained without the batch at hand (TRIAGE_BLIND), rules and
//     model gave P1 recall 0.981 / 0.981 / 0.962 / 0.961 / 1.000, P1
//     precision 0.963 / 0.881 / 0.962 / 0.980 / 0.946, priority accuracy
//     0.973 / 0.901 / 0.934 / 0.947 / 0.934 (not blind: the rules saw them).
//     Their category labels often differ from the
//     rules' category_order (a migrant domestic worker: labor or
//     servitude), so their category floor is lower.
//
//   - heldout34.jsonl (frightened victims and unsure witnesses) and
//     heldout35.jsonl (social workers, teachers and doctors writing
//     formally; migrants in their second language), 150 tips each (53 P1),
//     were written blind by two more independent writers for issue 13's
//     third round and scored once with main 050e0fe, rules and model
//     (neither had seen them): P1 recall 0.906 (48 of 53) / 0.943 (50 of
//     53), P1 precision 0.960 / 0.877, priority accuracy 0.920 / 0.893,
//     language accuracy 0.987 / 0.993. Missed P1: an operation in a clinic
//     abroad "the day after tomorrow" that the person never agreed to, told
//     without naming an organ ("operasiya birisi gün", "operaciya
//     poslezavtra ... pasporta net", a physician's "nephrectomy" of a
//     "living related donor"); "sidim zakryty 3 дня edy net"; a bare "🆘🆘"
//     with a place; "tell my mother not to look for me"; a girl who
//     whispered to a taxi driver that the man "is not dad"; a social
//     worker's "sonradan məlum oldu ki" (it was established that) read as an
//     alarm taken back. False P1: professionals' "no injuries were
//     observed", "травм нет, насилие отрицает", "heç bir zorakılıq əlaməti
//     görməmişik" not read as reassurance; a minor's wedding "in autumn" and
//     children begging "every day" raised by the model alone; workers
//     "taken in the morning, brought back at night" read as abducted; "the
//     seller disappeared" after an online fraud; a man "shouting at" a girl
//     read as her crying for help; a kidney offer the writer "did not agree
//     to yet" read as forced. The rules were then fixed for the kinds
//     (labelled14.jsonl has examples both ways), and the decision table
//     learnt not_imminent and routine. Afterwards (not blind: the rules saw
//     them), a model trained without the batch, over 5 training orders,
//     gave P1 recall 1.000 and P1 precision 1.000 on both, priority
//     accuracy 0.993; rules alone 0.906 / 0.887 and 0.980 / 0.922.
//
//   - heldout36.jsonl (officials, police and journalists in a detached
//     tone; hard negatives: idioms, films and games, sport, landlords and
//     banks, a child locked out, a lost passport) and heldout37.jsonl (very
//     short SMS: Azerbaijani in Cyrillic, on a Russian keyboard and without
//     diacritics, Russian translit with digits, broken English), 120 tips
//     each (42 P1), were written blind for issue 13's fourth round and
//     scored once with main c418f3f: P1 recall 0.929 / 0.976, P1 precision
//     0.848 / 0.953, priority accuracy 0.833 / 0.967, language 1.000 /
//     1.000. Misses: a journalist's report ("reportaj") read as the news; "tell
//     mom not to look for me" from a daughter who left "2 months ago" read
//     as a danger long over; a frightened donor with forged papers for a
//     nephrectomy tomorrow; "kmk" for kömək. False P1 and P2: "they killed
//     us 3-0", "Taken" and PUBG kidnappings, "a game where you rescue
//     girls", "works me like a slave" about overtime, "I'd sell my kidney
//     for a ticket", a son locked out, a stolen car, a landlord's copy of a
//     passport, wages owed to the writer, "won't let me quit", neighbours'
//     party at 3 a.m., "no signs of violence were observed". The kinds were
//     fixed (labelled15.jsonl has examples both ways) and the batches joined
//     the examples.
//
// Now that the rules have been tuned on all of them, their scores here are no longer
// a measure of generalisation, only a guard against regressions. To measure
// generalisation again, write a new set and score it before changing rules.
var heldoutSets = []string{
	"testdata/heldout.jsonl",
	"testdata/heldout2.jsonl",
	"testdata/heldout3.jsonl",
	"testdata/heldout4.jsonl",
	"testdata/heldout5.jsonl",
	"testdata/heldout6.jsonl",
	"testdata/heldout7.jsonl",
	"testdata/heldout8.jsonl",
	"testdata/heldout9.jsonl",
	"testdata/heldout10.jsonl",
	"testdata/heldout11.jsonl",
	"testdata/heldout12.jsonl",
	"testdata/heldout13.jsonl",
	"testdata/heldout15.jsonl",
	"testdata/heldout16.jsonl",
	"testdata/heldout14.jsonl",
	"testdata/heldout17.jsonl",
	"testdata/heldout18.jsonl",
	"testdata/heldout19.jsonl",
	"testdata/heldout20.jsonl",
	"testdata/heldout21.jsonl",
	"testdata/heldout22.jsonl",
	"testdata/heldout23.jsonl",
	"testdata/heldout24.jsonl",
	"testdata/heldout25.jsonl",
	"testdata/heldout26.jsonl",
	"testdata/heldout27.jsonl",
	"testdata/heldout28.jsonl",
	"testdata/heldout29.jsonl",
	"testdata/heldout30.jsonl",
	"testdata/heldout31.jsonl",
	"testdata/heldout32.jsonl",
	"testdata/heldout33.jsonl",
	"testdata/heldout34.jsonl",
	"testdata/heldout35.jsonl",
	"testdata/heldout36.jsonl",
	"testdata/heldout37.jsonl",
}

// independentCategoryFloor is the category floor of batches written by
// independent writers (heldout29 and later), whose category labels follow
// their own reading rather than category_order.
var independentCategoryFloor = map[string]float64{
	"testdata/heldout29.jsonl": 0.65,
	"testdata/heldout30.jsonl": 0.6,
	"testdata/heldout31.jsonl": 0.55,
	"testdata/heldout32.jsonl": 0.7,
	"testdata/heldout33.jsonl": 0.6,
	"testdata/heldout34.jsonl": 0.68,
	"testdata/heldout35.jsonl": 0.68,
	"testdata/heldout36.jsonl": 0.6,
	"testdata/heldout37.jsonl": 0.6,
}

// minHeldoutCategoryAcc guards the category against regressions; the
// category is not a product target.
const minHeldoutCategoryAcc = 0.7

// p1Report lists the P1 tips the engine missed and its false P1 alarms.
func p1Report(e *triage.Engine, rows []labelled) string {
	var miss, alarm strings.Builder
	for _, r := range rows {
		got := e.Triage(r.Text)
		switch {
		case r.Priority == hotline.P1 && got.Priority != hotline.P1:
			fmt.Fprintf(&miss, "  got %s %v: %q\n", got.Priority, got.Matched, r.Text)
		case r.Priority != hotline.P1 && got.Priority == hotline.P1:
			fmt.Fprintf(&alarm, "  want %s, got P1 %v: %q\n", r.Priority, got.Matched, r.Text)
		}
	}
	return "P1 missed:\n" + miss.String() + "P1 false alarms:\n" + alarm.String()
}

func TestHeldoutSets(t *testing.T) {
	e := triage.Default()
	for _, path := range heldoutSets {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(path, "testdata/"), ".jsonl"), func(t *testing.T) {
			rows := readSet(t, path)
			if len(rows) < 90 {
				t.Errorf("only %d tips in %s; keep the set large", len(rows), path)
			}
			s := score(t, e, rows)
			t.Log("\n" + s.String() + p1Report(e, rows))
			check := func(name string, got, min float64) {
				if got < min {
					t.Errorf("%s = %.3f, want at least %.3f", name, got, min)
				}
			}
			check("P1 recall", s.p1Recall, minP1Recall)
			check("P1 precision", s.p1Precision, minP1Precision)
			check("priority accuracy", s.priorityAcc, minPriorityAcc)
			check("language accuracy", s.langAcc, minLangAcc)
			catFloor := minHeldoutCategoryAcc
			if f, ok := independentCategoryFloor[path]; ok {
				catFloor = f
			}
			check("category accuracy", s.catAcc, catFloor)
		})
	}
}

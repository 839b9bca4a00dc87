"""The bundled English -> French corpus, made from a small hand-written grammar.

Four kinds of sentence, each with or without negation (ne ... pas):

    she is a singer                     elle est chanteuse            être + profession (no article)
    we are not tired                    nous ne sommes pas fatigués   être + adjective (it agrees)
    i do not have a green car           je n'ai pas de voiture verte  avoir + noun + adjective
    the boy watches the black cat       le garçon regarde le chat noir   a regular -er verb

French nouns have a gender that the article (un/une, le/la) and the adjective (which follows
the noun) agree with; indefinite articles become "de" under negation; je, ne and de elide
before a vowel (j'ai, n'aime). English "you" is always "tu" and "they" always "ils", so
each English sentence has exactly one translation.

Four fifths of the 160 (noun, adjective) combinations are seen in training; the validation and
the test splits each hold sentences made only from a held-out tenth of their own (16
combinations), which no training sentence contains. A model must compose "voiture" and "vert" into "voiture verte"
having seen each only with others: validation and test measure generalisation, not memory.

``python -m nprnn.data.toy_en_fr`` writes the three files shipped with the package.
"""
import itertools
from pathlib import Path

import numpy as np

# (English, French, person: 1s 2s 3s 1p 3p, gender of the French subject)
SUBJECTS = [
    ("i", "je", "1s", "m"),
    ("you", "tu", "2s", "m"),
    ("he", "il", "3s", "m"),
    ("she", "elle", "3s", "f"),
    ("the boy", "le garçon", "3s", "m"),
    ("the girl", "la fille", "3s", "f"),
    ("we", "nous", "1p", "m"),
    ("they", "ils", "3p", "m"),
]
ETRE = {"1s": "suis", "2s": "es", "3s": "est", "1p": "sommes", "3p": "sont"}
AVOIR = {"1s": "ai", "2s": "as", "3s": "a", "1p": "avons", "3p": "ont"}
BE = {"1s": "am", "2s": "are", "3s": "is", "1p": "are", "3p": "are"}
ER_ENDINGS = {"1s": "e", "2s": "es", "3s": "e", "1p": "ons", "3p": "ent"}

# (English base form, English third person singular, French stem of a regular -er verb)
VERBS = [
    ("watch", "watches", "regard"),
    ("look for", "looks for", "cherch"),
    ("like", "likes", "aim"),
    ("carry", "carries", "port"),
    ("wash", "washes", "lav"),
    ("draw", "draws", "dessin"),
    ("find", "finds", "trouv"),
    ("bring", "brings", "apport"),
]
# (English, English plural, French masculine, feminine, masculine plural)
PROFESSIONS = [
    ("student", "students", "étudiant", "étudiante", "étudiants"),
    ("teacher", "teachers", "professeur", "professeur", "professeurs"),
    ("doctor", "doctors", "médecin", "médecin", "médecins"),
    ("singer", "singers", "chanteur", "chanteuse", "chanteurs"),
    ("actor", "actors", "acteur", "actrice", "acteurs"),
    ("nurse", "nurses", "infirmier", "infirmière", "infirmiers"),
    ("lawyer", "lawyers", "avocat", "avocate", "avocats"),
    ("cook", "cooks", "cuisinier", "cuisinière", "cuisiniers"),
    ("baker", "bakers", "boulanger", "boulangère", "boulangers"),
    ("farmer", "farmers", "fermier", "fermière", "fermiers"),
]
# (English, French masculine, feminine, masculine plural): states, after être
STATES = [
    ("tired", "fatigué", "fatiguée", "fatigués"),
    ("happy", "content", "contente", "contents"),
    ("ready", "prêt", "prête", "prêts"),
    ("busy", "occupé", "occupée", "occupés"),
    ("sad", "triste", "triste", "tristes"),
    ("sick", "malade", "malade", "malades"),
    ("angry", "fâché", "fâchée", "fâchés"),
    ("tall", "grand", "grande", "grands"),
    ("small", "petit", "petite", "petits"),
    ("late", "en retard", "en retard", "en retard"),
]
# (English, French, gender)
NOUNS = [
    ("book", "livre", "m"),
    ("car", "voiture", "f"),
    ("house", "maison", "f"),
    ("dog", "chien", "m"),
    ("cat", "chat", "m"),
    ("table", "table", "f"),
    ("pen", "stylo", "m"),
    ("bag", "sac", "m"),
    ("bicycle", "vélo", "m"),
    ("chair", "chaise", "f"),
    ("shirt", "chemise", "f"),
    ("cup", "tasse", "f"),
    ("key", "clé", "f"),
    ("ball", "ballon", "m"),
    ("hat", "chapeau", "m"),
    ("door", "porte", "f"),
]
# (English, French masculine, feminine): colours and the like, which follow the French noun
ADJECTIVES = [
    ("red", "rouge", "rouge"),
    ("green", "vert", "verte"),
    ("blue", "bleu", "bleue"),
    ("black", "noir", "noire"),
    ("white", "blanc", "blanche"),
    ("gray", "gris", "grise"),
    ("yellow", "jaune", "jaune"),
    ("heavy", "lourd", "lourde"),
    ("round", "rond", "ronde"),
    ("expensive", "cher", "chère"),
]
VOWELS = tuple("aeiouéèêâàh")
HELD_OUT_FRACTION = 0.1
SEED = 2026


def _elide(words):
    """je, ne, de before a vowel -> j', n', d' (joined to the next word as in French text)."""
    out = []
    for w in words:
        if out and out[-1] in ("je", "ne", "de") and w.startswith(VOWELS):
            out[-1] = out[-1][0] + "'" + w
        else:
            out.append(w)
    return " ".join(out).replace("' ", "'")


def _a(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def _agree(forms, person, gender):
    """Pick the masculine, feminine or plural form for a subject."""
    masc, fem, plural = forms
    if person in ("1p", "3p"):
        return plural
    return fem if gender == "f" else masc


def _negate(subject_fr, verb_fr, rest, negative):
    if negative:
        return _elide(subject_fr.split() + ["ne", verb_fr, "pas"] + rest)
    return _elide(subject_fr.split() + [verb_fr] + rest)


def _do(person, negative, base, third):
    """English present tense, with do-support under negation: 'does not watch' / 'watches'."""
    if negative:
        return ("does not " if person == "3s" else "do not ") + base
    return third if person == "3s" else base


def _noun_phrase(article, noun, adj, negative):
    """English and French noun phrases: 'a green car' / 'une voiture verte' ('de' under negation)."""
    en_word, fr_word, gender = noun
    en = en_word if adj is None else f"{adj[0]} {en_word}"
    en = _a(en) if article == "a" else f"the {en}"
    fr_adj = [] if adj is None else [adj[1] if gender == "m" else adj[2]]
    if article == "a":
        fr_article = "de" if negative else ("un" if gender == "m" else "une")
    else:
        fr_article = "le" if gender == "m" else "la"
    return en, [fr_article, fr_word] + fr_adj


def all_sentences():
    """Every sentence of the grammar: (english, french, kind, (noun, adjective) or None).

    kind is "profession", "state" or "object".
    """
    out = []
    for (s_en, s_fr, person, gender), negative in itertools.product(SUBJECTS, (False, True)):
        be = BE[person] + (" not" if negative else "")
        for en, en_pl, *fr in PROFESSIONS:
            plural = person in ("1p", "3p")
            en_obj = en_pl if plural else _a(en)
            fr_obj = fr[2] if plural else (fr[1] if gender == "f" else fr[0])
            out.append((f"{s_en} {be} {en_obj}", _negate(s_fr, ETRE[person], [fr_obj], negative), "profession", None))
        for en, *forms in STATES:
            fr_state = _agree(forms, person, gender)
            out.append((f"{s_en} {be} {en}", _negate(s_fr, ETRE[person], [fr_state], negative), "state", None))
        verbs = [("have", "has", None)] + VERBS
        for (base, third, stem), noun, adj, article in itertools.product(verbs, NOUNS, [None] + ADJECTIVES, ("a", "the")):
            np_en, np_fr = _noun_phrase(article, noun, adj, negative)
            verb_fr = AVOIR[person] if stem is None else stem + ER_ENDINGS[person]
            english = f"{s_en} {_do(person, negative, base, third)} {np_en}"
            combo = None if adj is None else (noun[0], adj[0])
            out.append((english, _negate(s_fr, verb_fr, np_fr, negative), "object", combo))
    return out


def held_out_combinations(seed=SEED):
    """(valid, test): two disjoint sets of (noun, adjective) pairs that training never sees."""
    pairs = [(n[0], a[0]) for n in NOUNS for a in ADJECTIVES]
    k = int(round(HELD_OUT_FRACTION * len(pairs)))
    chosen = [pairs[i] for i in np.random.default_rng(seed).choice(len(pairs), size=2 * k, replace=False)]
    return set(chosen[:k]), set(chosen[k:])


def make_splits(n_train=4000, n_valid=300, n_test=500, seed=SEED):
    """(train, valid, test) lists of (english, french) pairs, sampled from the grammar.

    Every profession and state sentence goes into training (they are few, and the seed example
    "i am a student" is one of them); the object sentences are sampled.
    """
    rng = np.random.default_rng(seed)
    valid_combos, test_combos = held_out_combinations(seed)
    pools = {"simple": [], "train": [], "valid": [], "test": []}
    for en, fr, kind, combo in all_sentences():
        if kind != "object":
            pools["simple"].append((en, fr))
        elif combo in valid_combos:
            pools["valid"].append((en, fr))
        elif combo in test_combos:
            pools["test"].append((en, fr))
        else:
            pools["train"].append((en, fr))

    def sample(pool, n):
        return [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]

    train = pools["simple"] + sample(pools["train"], n_train - len(pools["simple"]))
    train = [train[i] for i in rng.permutation(len(train))]
    return train, sample(pools["valid"], n_valid), sample(pools["test"], n_test)


DATA_DIR = Path(__file__).parent
SPLIT_FILES = {split: DATA_DIR / f"toy_en_fr_{split}.tsv" for split in ("train", "valid", "test")}


def write_bundled_files():
    """Write the three TSV files shipped with nprnn (run when the grammar changes)."""
    for split, pairs in zip(("train", "valid", "test"), make_splits()):
        with open(SPLIT_FILES[split], "w", encoding="utf-8", newline="\n") as f:
            for en, fr in pairs:
                f.write(f"{en}\t{fr}\n")


if __name__ == "__main__":
    write_bundled_files()
    for split, path in SPLIT_FILES.items():
        print(f"wrote {path} ({sum(1 for _ in open(path, encoding='utf-8'))} pairs)")

"""Real sentences: train on a Tatoeba file and score on English sentences never seen in training.

    python benchmarks/real_corpus.py                                 # the default recipe, EN -> FR
    python benchmarks/real_corpus.py --swap-columns                  # FR -> EN
    python benchmarks/real_corpus.py --recipe word-baseline          # a word-level model, for contrast
    python benchmarks/real_corpus.py --synthetic-hangul              # English -> Korean: BPE against words

Each run goes through the library's own path (`load_task("tsv:...")` splits by source sentence;
`train_task` with the task's defaults plus the recipe's settings; `evaluate` on the test split,
every translation of a source as a reference, BLEU and chrF as sacreBLEU computes them) and
prints one row: recipe, direction, training seconds, tokens/s, test BLEU, chrF, exact match,
and a few translations, good and bad. The corpus is the first --lines lines of the file
(default: the first 18,000 of ../shared/corpora/fra-eng.tsv, sentences of up to about five
English words). Training stops at --time-limit seconds (default 900: fifteen minutes; 300 with
--synthetic-hangul).

Measured on the 2-core machine, English -> French, seed 0 (test BLEU / chrF / exact match;
each a run of the default with one thing taken away):

    default                                  31.4 / 47.6 / 17.5%   30 epochs (25 kept), 431 s
    --set label_smoothing=0.0                24.3 / 42.2 / 11.5%   13 epochs (8 kept), overfits
    --set attention=none                     26.2 / 43.3 / 12.5%   30 epochs (30 kept)
    --set dropout=0.0                        28.5 / 45.9 / 16.1%   17 epochs (12 kept), overfits
    --recipe word-attention (words)          30.2 / 46.8 / 16.2%   17 epochs (12 kept)
    --swap-columns (French -> English)       51.4 / 59.3 / 41.0%   30 epochs (27 kept), 387 s

There is no Korean or Japanese corpus on this machine (it has no network), so
`--synthetic-hangul` samples one, like a small Tatoeba file: --hangul-pairs (default 3,000)
English sentences, each with a grammatical Korean translation in Hangul, from the grammar below
(`hangul_pairs`: some 300 nouns, 70 verb stems, 45 adjectives, drawn by Zipf's law). Korean glues
particles onto nouns and endings onto verb stems (agglutination), so the sample holds many word
forms seen once or never; the corpus is split as any `tsv:` corpus is, by source sentence, and
the script prints how many test Korean words no training sentence holds (a word-level vocabulary
has no token for them; subwords can compose them). It trains the default recipe (BPE) and the
word-level one (`word-baseline`; `--recipe word-attention` is the default recipe with words for
subwords), each for at most 300 s unless --time-limit says otherwise, and shows each run's
translations of the first three test sentences that need such a word. The corpus file stays in
--out-dir beside the checkpoints, so `nprnn evaluate --checkpoint` can rebuild the split.

Measured on the 2-core machine (3,000 pairs: 8.0% of the test Korean words, in 86 of the 300
test sentences, are unseen in training; each run stops at 30 epochs or earlier, about a minute),
test chrF over seeds 0-4:

    default (BPE sized to 2,400 pairs: 700)   78.0 / 80.1 / 76.9 / 80.4 / 77.3   (BLEU 69.4 / 71.2 / 65.5 / 71.1 / 67.1)
    word-attention                            57.2 / 51.9 / 59.0 / 52.7 / 53.7
    word-baseline                             37.0 / 38.8 / 39.8 / 38.8 / 38.8
    BPE with --set vocab_size=4000            59.1 / 52.4 / 55.3 / 65.0 / 50.0

The default's translations hold 39 / 40 / 38 / 43 / 37 of the 103 unseen test words; no
word-level model can produce one. A fixed vocab_size of 4000 (the size the 14,400-pair French
corpus wants) merges nearly every Korean word form seen twice into one symbol (a target
vocabulary of 1,760 tokens against the word-level 1,580) and produces 0-2 of them: so its gain
over word-baseline was attention's, and the default now sizes the vocabulary to the corpus
(nprnn.data.tasks.bpe_vocab_size).
"""
import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nprnn.data.tasks import CorpusOptions, load_task  # noqa: E402
from nprnn.data.tokenize import WordTokenizer  # noqa: E402
from nprnn.train import train_task  # noqa: E402
from nprnn.translate import evaluate  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "fra-eng.tsv"

# Settings over the task's defaults (nprnn/data/tasks.py, "tsv"); "default" is those defaults.
RECIPES = {
    "default": {},
    "word-baseline": dict(tokenizer="word", attention="none", dropout=0.0, label_smoothing=0.0),
    # the default recipe with words for subwords: attention and regularisation kept, only the tokens differ
    "word-attention": dict(tokenizer="word"),
}


def subset(path, lines, folder):
    """The first `lines` lines of `path`, as a file of their own."""
    out = Path(folder) / f"{Path(path).stem}-{lines}.tsv"
    with open(path, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            if i >= lines:
                break
            g.write(line)
    return out


# ---- a synthetic English -> Korean corpus ------------------------------------------------------
#
# There is no Korean corpus on this machine, so `--synthetic-hangul` samples one, like a small
# Tatoeba file: short English sentences, each with a grammatical Korean translation in Hangul.
# Korean glues its grammar onto words (agglutination): a noun carries its particle (사과를 "the
# apple" as an object, 사과가 as a subject, 사과도 "the apple too", 공원에서 "in the park") and
# a verb stem its ending (먹는다 "eats", 먹었다 "ate", 먹어요? "do you eat?", 먹고 싶다 "want
# to eat"), so a few thousand sentences hold many word forms seen once or never. A word-level
# vocabulary has no token for a form that no training sentence holds; subwords can build it
# from the stem and the particle or ending, each seen with other words.
#
# Every word list is in order of how common the word is; sampling follows Zipf's law (the k-th
# word of a list is drawn with weight 1/k), so that, as in real text, a few words are frequent
# and most are rare.

# Nouns: (English noun phrase, Korean, tags). The tags say which verbs and adjectives take the
# noun, and which sentences it appears in (a "place" is where one goes and does things).
NOUNS = [
    # food eaten as it is ("fruit") and food that is made ("dish"), drinks
    ("the apple", "사과", "fruit"), ("the banana", "바나나", "fruit"), ("the strawberry", "딸기", "fruit"),
    ("the watermelon", "수박", "fruit"), ("the orange", "오렌지", "fruit"), ("the peach", "복숭아", "fruit"),
    ("the bread", "빵", "dish"), ("the rice", "밥", "dish"), ("the kimchi", "김치", "dish"),
    ("the meat", "고기", "dish"), ("the fish", "생선", "dish"), ("the cake", "케이크", "dish"),
    ("the soup", "국", "dish"), ("the egg", "달걀", "dish"), ("the ramen", "라면", "dish"),
    ("the sandwich", "샌드위치", "dish"), ("the pizza", "피자", "dish"), ("the salad", "샐러드", "dish"),
    ("the water", "물", "drink"), ("the coffee", "커피", "drink"), ("the milk", "우유", "drink"),
    ("the tea", "차", "drink"), ("the juice", "주스", "drink"), ("the beer", "맥주", "drink"),
    # things to read, write, watch, listen to, study
    ("the book", "책", "read write open"), ("the letter", "편지", "read write"), ("the newspaper", "신문", "read"),
    ("the magazine", "잡지", "read"), ("the novel", "소설", "read write"), ("the poem", "시", "read write"),
    ("the map", "지도", "read draw"),
    ("the movie", "영화", "watch"), ("the photo", "사진", "watch"), ("the painting", "그림", "watch"),
    ("the drama", "드라마", "watch"),
    ("the music", "음악", "music"), ("the song", "노래", "music song"), ("the radio", "라디오", "music thing device"),
    ("Korean", "한국어", "subject"), ("English", "영어", "subject"), ("math", "수학", "subject"),
    ("history", "역사", "subject"), ("science", "과학", "subject"), ("Japanese", "일본어", "subject"),
    ("art", "미술", "subject"), ("Chinese", "중국어", "subject"),
    # things one buys, finds, opens, draws
    ("the bag", "가방", "thing open"), ("the umbrella", "우산", "thing"), ("the key", "열쇠", "thing"),
    ("the clock", "시계", "thing"), ("the hat", "모자", "thing draw"), ("the car", "자동차", "thing draw vehicle"),
    ("the bicycle", "자전거", "thing draw vehicle"), ("the computer", "컴퓨터", "thing device"),
    ("the pencil", "연필", "thing tool"),
    ("the notebook", "공책", "thing"), ("the flower", "꽃", "thing draw watch"), ("the tree", "나무", "draw watch"),
    ("the ticket", "표", "thing"), ("the gift", "선물", "thing open"), ("the box", "상자", "thing open"),
    ("the door", "문", "open"), ("the window", "창문", "open"), ("the cup", "컵", "thing dishware"),
    ("the chair", "의자", "thing"), ("the camera", "카메라", "thing"), ("the ring", "반지", "thing"),
    ("the ball", "공", "thing"), ("the phone", "전화기", "thing"), ("the shirt", "셔츠", "thing wear"),
    ("the pen", "펜", "thing tool"), ("the brush", "붓", "thing tool"),
    # ways to travel ("by bus": 버스로)
    ("the bus", "버스", "vehicle"), ("the train", "기차", "vehicle"), ("the subway", "지하철", "vehicle"),
    ("the taxi", "택시", "vehicle"), ("the plane", "비행기", "vehicle"), ("the boat", "배", "vehicle"),
    # places, each with the preposition English puts before it ("in the park", "at the school")
    ("the school", "학교", "place at"), ("the house", "집", "place room in"), ("the park", "공원", "place in"),
    ("the library", "도서관", "place at"), ("the store", "가게", "place at"), ("the market", "시장", "place at"),
    ("the hospital", "병원", "place at"), ("the station", "역", "place at"), ("the restaurant", "식당", "place at"),
    ("the office", "사무실", "place room in"), ("the bank", "은행", "place at"), ("the church", "교회", "place at"),
    ("the beach", "해변", "place at"), ("the cafe", "카페", "place at"), ("the room", "방", "place room in"),
    ("the kitchen", "부엌", "place room in"), ("the classroom", "교실", "place room in"),
    ("the airport", "공항", "place at"), ("the museum", "박물관", "place at"), ("the hotel", "호텔", "place at"),
    ("the theater", "극장", "place at"), ("the post office", "우체국", "place at"),
    ("the garden", "정원", "place in"), ("the city", "도시", "place in"), ("the village", "마을", "place in"),
    ("the zoo", "동물원", "place at"), ("the bakery", "빵집", "place at"),
    # people and animals: they do things, and are met, helped, waited for, loved
    ("my friend", "내 친구", "person"), ("the teacher", "선생님", "person"), ("Mom", "엄마", "person"),
    ("Dad", "아빠", "person"), ("the doctor", "의사", "person"), ("the student", "학생", "person"),
    ("the child", "아이", "person"), ("the baby", "아기", "person"),
    ("the police officer", "경찰관", "person"), ("the cook", "요리사", "person"),
    ("the singer", "가수", "person"), ("the nurse", "간호사", "person"), ("the neighbor", "이웃", "person"),
    ("the boy", "소년", "person"), ("the girl", "소녀", "person"), ("the man", "남자", "person"),
    ("the woman", "여자", "person"),
    ("the dog", "개", "animal draw"), ("the cat", "고양이", "animal draw"), ("the bird", "새", "animal draw"),
    ("the horse", "말", "animal draw"), ("the rabbit", "토끼", "animal"), ("the duck", "오리", "animal"),
    ("the tiger", "호랑이", "animal"), ("the monkey", "원숭이", "animal"),
    # the long tail: rarer words of every kind
    ("the grape", "포도", "fruit"), ("the lemon", "레몬", "fruit"), ("the mango", "망고", "fruit"),
    ("the cherry", "체리", "fruit"), ("the persimmon", "감", "fruit"), ("the tangerine", "귤", "fruit"),
    ("the tomato", "토마토", "fruit"), ("the pineapple", "파인애플", "fruit"), ("the melon", "멜론", "fruit"),
    ("the plum", "자두", "fruit"), ("the kiwi", "키위", "fruit"),
    ("the rice cake", "떡", "dish"), ("the dumpling", "만두", "dish"), ("the bibimbap", "비빔밥", "dish"),
    ("the bulgogi", "불고기", "dish"), ("the gimbap", "김밥", "dish"), ("the hamburger", "햄버거", "dish"),
    ("the spaghetti", "스파게티", "dish"), ("the curry", "카레", "dish"), ("the cheese", "치즈", "dish"),
    ("the tofu", "두부", "dish"), ("the potato", "감자", "dish"), ("the carrot", "당근", "dish"),
    ("the onion", "양파", "dish"), ("the cookie", "쿠키", "dish"), ("the chocolate", "초콜릿", "dish"),
    ("the ice cream", "아이스크림", "dish"), ("the candy", "사탕", "dish"), ("the sausage", "소시지", "dish"),
    ("the steak", "스테이크", "dish"), ("the donut", "도넛", "dish"), ("the chicken", "닭고기", "dish"),
    ("the pork", "돼지고기", "dish"), ("the beef", "소고기", "dish"), ("the shrimp", "새우", "dish"),
    ("the cucumber", "오이", "dish"), ("the porridge", "죽", "dish"),
    ("the green tea", "녹차", "drink"), ("the cola", "콜라", "drink"), ("the wine", "와인", "drink"),
    ("the soju", "소주", "drink"), ("the lemonade", "레모네이드", "drink"), ("the cocoa", "코코아", "drink"),
    ("the soy milk", "두유", "drink"),
    ("the fairy tale", "동화", "read"), ("the diary", "일기", "read write"), ("the textbook", "교과서", "read"),
    ("the dictionary", "사전", "read"), ("the menu", "메뉴", "read"), ("the email", "이메일", "read write"),
    ("the report", "보고서", "read write"), ("the comic book", "만화책", "read"), ("the timetable", "시간표", "read"),
    ("the receipt", "영수증", "read"), ("the message", "메시지", "read write"),
    ("the news", "뉴스", "watch"), ("the play", "연극", "watch"), ("the concert", "콘서트", "watch music"),
    ("the game", "경기", "watch"), ("the cartoon", "만화", "watch"), ("the show", "공연", "watch"),
    ("the star", "별", "watch draw"), ("the moon", "달", "watch draw"), ("the sky", "하늘", "watch draw"),
    ("the rainbow", "무지개", "watch draw"),
    ("French", "프랑스어", "subject"), ("German", "독일어", "subject"), ("Spanish", "스페인어", "subject"),
    ("physics", "물리학", "subject"), ("chemistry", "화학", "subject"), ("geography", "지리", "subject"),
    ("economics", "경제학", "subject"), ("philosophy", "철학", "subject"), ("literature", "문학", "subject"),
    ("biology", "생물학", "subject"),
    ("the wallet", "지갑", "thing open"), ("the mirror", "거울", "thing"), ("the pillow", "베개", "thing"),
    ("the blanket", "이불", "thing"), ("the knife", "칼", "thing"), ("the fork", "포크", "thing"),
    ("the spoon", "숟가락", "thing"), ("the plate", "접시", "thing dishware"), ("the bowl", "그릇", "thing dishware"),
    ("the bottle", "병", "thing open"), ("the skirt", "치마", "thing wear"), ("the coat", "코트", "thing wear"),
    ("the dress", "드레스", "thing wear"), ("the scarf", "목도리", "thing"), ("the doll", "인형", "thing draw"),
    ("the toy", "장난감", "thing"), ("the balloon", "풍선", "thing draw"), ("the envelope", "봉투", "thing open"),
    ("the stamp", "우표", "thing"), ("the paper", "종이", "thing"), ("the desk", "책상", "thing"),
    ("the bed", "침대", "thing"), ("the sofa", "소파", "thing"), ("the refrigerator", "냉장고", "thing open device"),
    ("the television", "텔레비전", "thing device"), ("the lamp", "램프", "thing device"),
    ("the guitar", "기타", "thing instrument"), ("the violin", "바이올린", "thing instrument"),
    ("the piano", "피아노", "thing instrument"), ("the laptop", "노트북", "thing device"),
    ("the eraser", "지우개", "thing"), ("the calendar", "달력", "thing"), ("the towel", "수건", "thing"),
    ("the soap", "비누", "thing"), ("the toothbrush", "칫솔", "thing"), ("the backpack", "배낭", "thing open"),
    ("the passport", "여권", "thing"), ("the card", "카드", "thing"), ("the drawer", "서랍", "open"),
    ("the bookstore", "서점", "place at"), ("the pharmacy", "약국", "place at"),
    ("the police station", "경찰서", "place at"), ("the university", "대학교", "place at"),
    ("the kindergarten", "유치원", "place at"), ("the gym", "체육관", "place at"),
    ("the swimming pool", "수영장", "place at"), ("the playground", "운동장", "place in"),
    ("the factory", "공장", "place at"), ("the farm", "농장", "place on"), ("the river", "강", "place at"),
    ("the lake", "호수", "place at"), ("the forest", "숲", "place in"), ("the countryside", "시골", "place in"),
    ("the temple", "절", "place at"), ("the subway station", "지하철역", "place at"),
    ("the bus stop", "버스 정류장", "place at"), ("the parking lot", "주차장", "place in"),
    ("the department store", "백화점", "place at"), ("the convenience store", "편의점", "place at"),
    ("the supermarket", "슈퍼마켓", "place at"), ("the flower shop", "꽃집", "place at"),
    ("the dormitory", "기숙사", "place room in"), ("the apartment", "아파트", "place room in"),
    ("the living room", "거실", "place room in"), ("the bathroom", "화장실", "place room in"),
    ("the bedroom", "침실", "place room in"), ("the yard", "마당", "place in"),
    ("the meeting room", "회의실", "place room in"), ("the city hall", "시청", "place at"),
    ("the embassy", "대사관", "place at"), ("the port", "항구", "place at"), ("the island", "섬", "place on"),
    ("the guest", "손님", "person"), ("the professor", "교수", "person"), ("the actor", "배우", "person"),
    ("the painter", "화가", "person"), ("the writer", "작가", "person"), ("the reporter", "기자", "person"),
    ("the soldier", "군인", "person"), ("the farmer", "농부", "person"), ("the driver", "운전기사", "person"),
    ("the clerk", "점원", "person"), ("the player", "선수", "person"), ("my son", "내 아들", "person"),
    ("my daughter", "내 딸", "person"), ("my husband", "내 남편", "person"), ("my wife", "내 아내", "person"),
    ("my cousin", "내 사촌", "person"), ("my roommate", "내 룸메이트", "person"),
    ("the bear", "곰", "animal"), ("the lion", "사자", "animal"), ("the elephant", "코끼리", "animal draw"),
    ("the giraffe", "기린", "animal"), ("the pig", "돼지", "animal"), ("the sheep", "양", "animal"),
    ("the hen", "닭", "animal"), ("the snake", "뱀", "animal"), ("the turtle", "거북이", "animal"),
    ("the frog", "개구리", "animal"), ("the butterfly", "나비", "animal draw"), ("the goldfish", "금붕어", "animal"),
    ("the mouse", "쥐", "animal"), ("the fox", "여우", "animal"), ("the wolf", "늑대", "animal"),
    ("the hamster", "햄스터", "animal"), ("the penguin", "펭귄", "animal"), ("the panda", "판다", "animal"),
]

# The personal pronouns as subjects: (English, Korean, takes the third person singular).
PRONOUNS = [("I", "나", False), ("you", "너", False), ("he", "그", True), ("she", "그녀", True),
            ("we", "우리", False), ("they", "그들", False)]

# Verbs: (English base, third person, past; Korean stem; its 아/어 form; tags of its objects).
# The 아/어 form (먹어, 가, 봐, 도와, 들어) is the stem as the polite and past endings find it;
# giving it spells the irregular verbs (돕다 "help", 듣다 "listen", 부르다 "sing") right.
TRANSITIVE = [
    (("eat", "eats", "ate"), "먹", "먹어", "fruit dish"),
    (("like", "likes", "liked"), "좋아하", "좋아해", "fruit dish drink read watch music subject thing place person animal"),
    (("drink", "drinks", "drank"), "마시", "마셔", "drink"),
    (("buy", "buys", "bought"), "사", "사", "fruit dish drink read thing"),
    (("read", "reads", "read"), "읽", "읽어", "read"),
    (("see", "sees", "saw"), "보", "봐", "watch person animal"),
    (("meet", "meets", "met"), "만나", "만나", "person"),
    (("make", "makes", "made"), "만들", "만들어", "dish"),
    (("study", "studies", "studied"), "공부하", "공부해", "subject"),
    (("write", "writes", "wrote"), "쓰", "써", "write"),
    (("find", "finds", "found"), "찾", "찾아", "thing animal"),
    (("help", "helps", "helped"), "돕", "도와", "person"),
    (("know", "knows", "knew"), "알", "알아", "person"),
    (("listen to", "listens to", "listened to"), "듣", "들어", "music"),
    (("wait for", "waits for", "waited for"), "기다리", "기다려", "person"),
    (("learn", "learns", "learned"), "배우", "배워", "subject"),
    (("love", "loves", "loved"), "사랑하", "사랑해", "person animal"),
    (("open", "opens", "opened"), "열", "열어", "open"),
    (("sell", "sells", "sold"), "팔", "팔아", "fruit dish drink read thing"),
    (("visit", "visits", "visited"), "방문하", "방문해", "place"),
    (("order", "orders", "ordered"), "주문하", "주문해", "dish drink"),
    (("close", "closes", "closed"), "닫", "닫아", "open"),
    (("teach", "teaches", "taught"), "가르치", "가르쳐", "subject"),
    (("borrow", "borrows", "borrowed"), "빌리", "빌려", "read thing"),
    (("clean", "cleans", "cleaned"), "청소하", "청소해", "room"),
    (("call", "calls", "called"), "부르", "불러", "person"),
    (("draw", "draws", "drew"), "그리", "그려", "draw"),
    (("choose", "chooses", "chose"), "고르", "골라", "fruit thing"),
    (("sing", "sings", "sang"), "부르", "불러", "song"),
    (("catch", "catches", "caught"), "잡", "잡아", "animal"),
    (("wash", "washes", "washed"), "씻", "씻어", "fruit dishware"),
    (("bring", "brings", "brought"), "가져오", "가져와", "thing fruit dish drink read"),
    (("wear", "wears", "wore"), "입", "입어", "wear"),
    (("lose", "loses", "lost"), "잃어버리", "잃어버려", "thing"),
    (("fix", "fixes", "fixed"), "고치", "고쳐", "thing"),
    (("use", "uses", "used"), "사용하", "사용해", "thing"),
    (("play", "plays", "played"), "연주하", "연주해", "instrument"),
    (("remember", "remembers", "remembered"), "기억하", "기억해", "person"),
    (("cut", "cuts", "cut"), "자르", "잘라", "fruit dish thing"),
    (("cook", "cooks", "cooked"), "요리하", "요리해", "dish"),
    (("throw", "throws", "threw"), "던지", "던져", "thing"),
    (("hug", "hugs", "hugged"), "안", "안아", "person animal"),
    (("push", "pushes", "pushed"), "밀", "밀어", "open thing"),
    (("turn on", "turns on", "turned on"), "켜", "켜", "device"),
    (("turn off", "turns off", "turned off"), "끄", "꺼", "device"),
    (("receive", "receives", "received"), "받", "받아", "write thing"),
]
# Giving something to someone (the person with 에게): 'I give the book to Mom.' -> '나는 엄마에게 책을 준다.'
# Its tuple ends with the English preposition before the person: 'to', or 'for' (-어 주다, 'do for').
GIVING = [(("give", "gives", "gave"), "주", "줘", "fruit dish drink read thing", "to"),
          (("show", "shows", "showed"), "보여 주", "보여 줘", "watch thing read", "to"),
          (("send", "sends", "sent"), "보내", "보내", "write thing", "to"),
          (("teach", "teaches", "taught"), "가르치", "가르쳐", "subject", "to"),
          (("sell", "sells", "sold"), "팔", "팔아", "fruit dish drink read thing", "to"),
          (("buy", "buys", "bought"), "사 주", "사 줘", "fruit dish drink read thing", "for"),
          (("lend", "lends", "lent"), "빌려주", "빌려줘", "read thing", "to"),
          (("make", "makes", "made"), "만들어 주", "만들어 줘", "dish", "for"),
          (("read", "reads", "read"), "읽어 주", "읽어 줘", "read", "to"),
          (("write", "writes", "wrote"), "쓰", "써", "write", "to")]
# Going somewhere (the place takes 에, "to") and doing something somewhere (에서, "in"/"at").
MOTION = [(("go to", "goes to", "went to"), "가", "가"), (("come to", "comes to", "came to"), "오", "와"),
          (("go back to", "goes back to", "went back to"), "돌아가", "돌아가"),
          (("walk to", "walks to", "walked to"), "걸어가", "걸어가"),
          (("arrive at", "arrives at", "arrived at"), "도착하", "도착해"),
          (("run to", "runs to", "ran to"), "뛰어가", "뛰어가"),
          (("go into", "goes into", "went into"), "들어가", "들어가")]
ACTIVITIES = [(("study", "studies", "studied"), "공부하", "공부해"), (("work", "works", "worked"), "일하", "일해"),
              (("sleep", "sleeps", "slept"), "자", "자"), (("play", "plays", "played"), "놀", "놀아"),
              (("rest", "rests", "rested"), "쉬", "쉬어"), (("exercise", "exercises", "exercised"), "운동하", "운동해"),
              (("swim", "swims", "swam"), "수영하", "수영해"), (("sing", "sings", "sang"), "노래하", "노래해"),
              (("wait", "waits", "waited"), "기다리", "기다려"), (("live", "lives", "lived"), "살", "살아"),
              (("dance", "dances", "danced"), "춤추", "춤춰"), (("cook", "cooks", "cooked"), "요리하", "요리해"),
              (("shop", "shops", "shopped"), "쇼핑하", "쇼핑해"), (("cry", "cries", "cried"), "울", "울어"),
              (("laugh", "laughs", "laughed"), "웃", "웃어")]
ANIMAL_VERBS = {"eat", "drink", "like", "see", "find", "go to", "come to", "run to", "go into", "sleep", "play",
                "rest", "swim", "live", "cry"}  # an animal does them
STATIVE = {"like", "love", "know", "remember"}  # states: no "want to", "will", "is ...ing", "can", "must", "please"
UNBIDDEN = {"lose", "receive", "cry", "laugh"}  # not done on request: no "please", "let's", "must"
# Stems that change before an ending in 으 (을 "will", 으러 "in order to", 으세요 "please"): the
# irregular 돕다 and 듣다, and the verbs that say "please" with a word of their own (드세요 "please eat").
IRREGULAR_EU = {"돕": "도우", "듣": "들으"}
HONORIFIC = {"먹": "드", "자": "주무"}

# Adjectives (Korean predicates, conjugated like verbs): (English, its comparative, stem, 아/어
# form, tags of the nouns it describes).
ADJECTIVES = [
    ("big", "bigger", "크", "커", "fruit thing place animal"),
    ("small", "smaller", "작", "작아", "fruit thing place animal"),
    ("good", "better", "좋", "좋아", "read watch music"), ("delicious", "more delicious", "맛있", "맛있어", "fruit dish drink"),
    ("expensive", "more expensive", "비싸", "비싸", "fruit dish drink read thing"),
    ("interesting", "more interesting", "재미있", "재미있어", "read watch subject"),
    ("pretty", "prettier", "예쁘", "예뻐", "thing watch animal"), ("kind", "kinder", "친절하", "친절해", "person"),
    ("busy", "busier", "바쁘", "바빠", "person"), ("cheap", "cheaper", "싸", "싸", "fruit dish drink read thing"),
    ("difficult", "more difficult", "어렵", "어려워", "subject read"), ("quiet", "quieter", "조용하", "조용해", "place"),
    ("far", "farther", "멀", "멀어", "place"), ("hot", "hotter", "뜨겁", "뜨거워", "drink"),
    ("cold", "colder", "차갑", "차가워", "drink"), ("sweet", "sweeter", "달", "달아", "fruit drink"),
    ("clean", "cleaner", "깨끗하", "깨끗해", "place thing"), ("near", "closer", "가깝", "가까워", "place"),
    ("happy", "happier", "행복하", "행복해", "person"), ("easy", "easier", "쉽", "쉬워", "subject"),
    ("cute", "cuter", "귀엽", "귀여워", "animal"),
    ("long", "longer", "길", "길어", "read watch thing"), ("short", "shorter", "짧", "짧아", "read watch thing"),
    ("heavy", "heavier", "무겁", "무거워", "thing"), ("light", "lighter", "가볍", "가벼워", "thing"),
    ("dirty", "dirtier", "더럽", "더러워", "place thing animal"),
    ("famous", "more famous", "유명하", "유명해", "person place read watch"),
    ("strong", "stronger", "강하", "강해", "person animal"), ("fast", "faster", "빠르", "빨라", "vehicle animal"),
    ("slow", "slower", "느리", "느려", "vehicle animal"), ("spicy", "spicier", "맵", "매워", "dish"),
    ("salty", "saltier", "짜", "짜", "dish"), ("fresh", "fresher", "신선하", "신선해", "fruit dish"),
    ("warm", "warmer", "따뜻하", "따뜻해", "drink place"), ("bright", "brighter", "밝", "밝아", "place"),
    ("dark", "darker", "어둡", "어두워", "place"), ("boring", "more boring", "지루하", "지루해", "read watch subject"),
    ("sad", "sadder", "슬프", "슬퍼", "read watch music"), ("smart", "smarter", "똑똑하", "똑똑해", "person animal"),
    ("young", "younger", "젊", "젊어", "person"), ("tired", "more tired", "피곤하", "피곤해", "person"),
    ("hungry", "hungrier", "배고프", "배고파", "person animal"), ("sick", "sicker", "아프", "아파", "person animal"),
    ("healthy", "healthier", "건강하", "건강해", "person animal"),
    ("comfortable", "more comfortable", "편하", "편해", "thing place"),
]


# ---- Hangul spelling ----

def _final_consonant(syllable):
    """True if a Hangul syllable ends in a consonant (it picks 은/는, 을/를 and the endings)."""
    return (ord(syllable) - 0xAC00) % 28 != 0


_N, _L, _SS = 4, 8, 20  # the final consonants ㄴ, ㄹ, ㅆ, as offsets within a syllable's block


def _final(syllable):
    return (ord(syllable) - 0xAC00) % 28


def _with_final(syllable, final):
    """A syllable with no final consonant, given one: (가, ㅆ) -> 갔."""
    return chr(ord(syllable) + final)


def _particle(noun, after_consonant, after_vowel=None):
    """noun + particle, its form chosen by the noun's last sound: 책을, 사과를; 책도, 사과도."""
    if after_vowel is None:
        return noun + after_consonant
    return noun + (after_consonant if _final_consonant(noun[-1]) else after_vowel)


def _by(noun):
    """noun + (으)로 'by, with': 버스로, 지하철로 (ㄹ takes 로), 펜으로."""
    return noun + ("로" if _final(noun[-1]) in (0, _L) else "으로")


def _plain_present(stem):
    """The plain present of a verb: 먹 -> 먹는다, 가 -> 간다, 만들 -> 만든다 (ㄹ gives way to ㄴ)."""
    last = stem[-1]
    if not _final_consonant(last):
        return stem[:-1] + _with_final(last, _N) + "다"
    if _final(last) == _L:
        return stem[:-1] + chr(ord(last) - _L + _N) + "다"
    return stem + "는다"


def _past(a_form):
    """The past stem, from the 아/어 form: 먹어 -> 먹었, 가 -> 갔, 도와 -> 도왔."""
    return a_form[:-1] + _with_final(a_form[-1], _SS)


def _future(stem):
    """The stem before 것 'will' and 수 'can': 먹 -> 먹을, 가 -> 갈, 만들 -> 만들, 돕 -> 도울."""
    stem = IRREGULAR_EU.get(stem, stem)
    last = stem[-1]
    if not _final_consonant(last):
        return stem[:-1] + _with_final(last, _L)
    return stem if _final(last) == _L else stem + "을"


def _purpose(stem):
    """'in order to': 먹 -> 먹으러, 사 -> 사러, 만들 -> 만들러, 돕 -> 도우러."""
    stem = IRREGULAR_EU.get(stem, stem)
    return stem + ("으러" if _final(stem[-1]) not in (0, _L) else "러")


def _please(stem):
    """'please ...' (honorific 세요): 가 -> 가세요, 읽 -> 읽으세요, 만들 -> 만드세요, 먹 -> 드세요."""
    stem = HONORIFIC.get(stem, IRREGULAR_EU.get(stem, stem))
    last = stem[-1]
    if _final(last) == _L:
        return stem[:-1] + chr(ord(last) - _L) + "세요"
    return stem + ("으세요" if _final_consonant(last) else "세요")


def _modifier(stem, a_form):
    """An adjective before its noun: 크 -> 큰, 작 -> 작은, 맛있 -> 맛있는, 멀 -> 먼, 어렵 -> 어려운."""
    last = stem[-1]
    if stem.endswith("있"):
        return stem + "는"
    if not _final_consonant(last):
        return stem[:-1] + _with_final(last, _N)
    if _final(last) == _L:
        return stem[:-1] + chr(ord(last) - _L + _N)
    if a_form.endswith("워"):  # ㅂ-irregular: 어려워 -> 어려운
        return a_form[:-1] + "운"
    return stem + "은"


# ---- predicates ----

# The forms of a verb and how often each is drawn: plain statements end in 다, questions are
# polite, in 요.
FORMS = {"present": 6, "past": 5, "not": 2, "did not": 2, "want": 2, "wanted": 1, "not want": 1, "will": 2,
         "will not": 1, "is ...ing": 1, "was ...ing": 1, "can": 1.5, "cannot": 1, "must": 1,
         "let's": 1, "please": 1.5, "don't": 1,
         "present?": 2, "past?": 2, "want?": 1, "will?": 1, "is ...ing?": 1, "can?": 1}
_NEGATIVE = ("not", "did not", "not want", "will not", "cannot", "don't")
_IMPERATIVE = ("let's", "please", "don't")  # no subject in either language


def _verb_ko(stem, a_form, form, someone_else):
    """The Korean predicate of a verb in one of FORMS. `someone_else`: the wish is not the
    speaker's, which Korean reports with 싶어 하다 ('he wants to': 먹고 싶어 한다), where one's own
    (and one asked of 'you') is 싶다 (먹고 싶다, 먹고 싶어요?)."""
    want = stem + ("고 싶어 하" if someone_else else "고 싶")  # a verb for others, an adjective for oneself
    return {
        "present": _plain_present(stem), "past": _past(a_form) + "다",
        "not": stem + "지 않는다", "did not": stem + "지 않았다",
        "want": _plain_present(want) if someone_else else want + "다",
        "wanted": _past(want[:-1] + "해" if someone_else else want + "어") + "다",
        "not want": want + ("지 않는다" if someone_else else "지 않다"),
        "will": _future(stem) + " 것이다", "will not": stem + "지 않을 것이다",
        "is ...ing": stem + "고 있다", "was ...ing": stem + "고 있었다",
        "can": _future(stem) + " 수 있다", "cannot": _future(stem) + " 수 없다", "must": a_form + "야 한다",
        "let's": stem + "자", "please": _please(stem), "don't": stem + "지 마세요",
        "present?": a_form + "요?", "past?": _past(a_form) + "어요?", "can?": _future(stem) + " 수 있어요?",
        "want?": (want[:-1] + "해요?") if someone_else else want + "어요?",
        "will?": _future(stem) + " 거예요?", "is ...ing?": stem + "고 있어요?",
    }[form]


def _ing(base):
    """'eat' -> 'eating', 'make' -> 'making', 'run to' -> 'running to'."""
    word, _, rest = base.partition(" ")
    word = word[:-1] if word.endswith("e") and not word.endswith("ee") else word
    word = word + word[-1] if word in ("run", "swim", "shop", "hug", "cut") else word
    return " ".join(filter(None, [word + "ing", rest]))


def _verb_en(subject, third, verb, form, rest):
    """The English clause: 'he eats the apple', 'do you eat the apple', 'I did not eat ...'."""
    base, third_form, past = verb
    do, be = ("does", "is") if third else ("do", "am" if subject == "I" else "are")
    was = "was" if third or subject == "I" else "were"
    return {
        "present": f"{subject} {third_form if third else base}", "past": f"{subject} {past}",
        "not": f"{subject} {do} not {base}", "did not": f"{subject} did not {base}",
        "want": f"{subject} {'wants' if third else 'want'} to {base}", "wanted": f"{subject} wanted to {base}",
        "not want": f"{subject} {do} not want to {base}",
        "will": f"{subject} will {base}", "will not": f"{subject} will not {base}",
        "is ...ing": f"{subject} {be} {_ing(base)}", "was ...ing": f"{subject} {was} {_ing(base)}",
        "can": f"{subject} can {base}", "cannot": f"{subject} cannot {base}", "must": f"{subject} must {base}",
        "let's": f"let's {base}", "please": f"please {base}", "don't": f"don't {base}",
        "present?": f"{do} {subject} {base}", "past?": f"did {subject} {base}", "can?": f"can {subject} {base}",
        "want?": f"{do} {subject} want to {base}", "will?": f"will {subject} {base}",
        "is ...ing?": f"{be} {subject} {_ing(base)}",
    }[form] + rest


# ---- sentences ----

def _zipf(rng, items):
    """One of `items`, the k-th with weight 1/k."""
    return rng.choices(items, weights=[1 / (k + 1) for k in range(len(items))])[0]


def _nouns(*tags):
    """The nouns with any of the tags, in NOUNS's order."""
    return [n for n in NOUNS if set(tags) & set(n[2].split())]


def _where(place):
    """'in the park', 'on the farm' or 'at the school', as English says it."""
    tags = place[2].split()
    return f"{'in' if 'in' in tags else 'on' if 'on' in tags else 'at'} {place[0]}"


def _sentence(en, ko):
    """Capitalised English with its full stop or question mark, and the Korean with the same."""
    mark = "?" if ko.endswith("?") else "."
    return en[0].upper() + en[1:] + mark, ko.rstrip("?") + mark


def _subject(rng, verb_en):
    """(English, Korean with its particle, third person singular) of a subject: a pronoun with
    the topic particle 은/는 (나는), or a person or an animal with 이/가 (내 친구가, 개가)."""
    r = rng.random()
    if r < 0.6:
        en, ko, third = _zipf(rng, PRONOUNS)
        return en, _particle(ko, "은", "는"), third
    en, ko, _ = _zipf(rng, _nouns("person" if r < 0.9 or verb_en not in ANIMAL_VERBS else "animal"))
    return en, _particle(ko, "이", "가"), True


def _form(rng, subject, verb_en):
    """A form of the predicate, drawn by FORMS: no question to 'I', no 'wants to like'."""
    form = rng.choices(list(FORMS), weights=list(FORMS.values()))[0]
    if subject[0] == "I" and form.endswith("?"):
        return form[:-1] if form[:-1] in FORMS else "present"
    if verb_en in STATIVE and form not in ("present", "past", "not", "did not", "present?", "past?"):
        return "present"
    if verb_en in UNBIDDEN and form in _IMPERATIVE + ("must",):
        return "past"
    return form


def _clause(subject, verb, rest_en, middle_ko, stem, a_form, form):
    """Subject and predicate together: ('he eats' + rest_en, '그는 ' + middle_ko + '먹는다').
    A polite question to 'you' leaves the subject out, as Korean does: 'Did you eat the
    apple?' -> '사과를 먹었어요?'."""
    if form in _IMPERATIVE:  # 'Please eat the apple.' -> '사과를 드세요.'
        en = _verb_en("", False, verb, form, rest_en).strip()
        return _sentence(en, middle_ko + _verb_ko(stem, a_form, form, True))
    s_en, s_ko, third = subject
    to_you = s_en == "you" and form.endswith("?")
    someone_else = s_en not in ("I", "we") and not to_you
    en = _verb_en(s_en, third, verb, form, rest_en)
    ko = ("" if to_you else s_ko + " ") + middle_ko + _verb_ko(stem, a_form, form, someone_else)
    return _sentence(en, ko)


def _described(rng, noun):
    """Sometimes the noun with an adjective that fits it: ('the big apple', '큰 사과')."""
    en, ko, tags = noun
    fitting = [a for a in ADJECTIVES if set(a[4].split()) & set(tags.split())]
    if en.startswith("the ") and fitting and rng.random() < 0.15:
        adjective, _, stem, a_form, _ = _zipf(rng, fitting)
        return f"the {adjective} {en[4:]}", f"{_modifier(stem, a_form)} {ko}", tags
    return noun


def _object(rng, tags, form, subject):
    """(English, Korean) of an object with tags: 'the apple' 사과를, 'the big apple' 큰 사과를;
    sometimes 'the apple too' 사과도 ('either' in a negative), 'only the apple' 사과만, 'the apple
    and the bread' 사과와 빵을, or someone's: 'my friend's bag' 내 친구의 가방을."""
    objects = [n for n in _nouns(*tags.split()) if n[0] != subject[0]]
    en, ko, o_tags = _described(rng, _zipf(rng, objects))
    kind = rng.choices(["object", "too", "only", "and", "whose"], weights=[8, 2, 1.5, 2, 1.5])[0]
    if kind == "too":
        return f"{en} {'either' if form in _NEGATIVE else 'too'}", _particle(ko, "도")
    if kind == "only" and form not in _NEGATIVE:
        return f"only {en}", _particle(ko, "만")
    if kind == "and":
        en2, ko2, _ = _zipf(rng, objects)
        if ko2 != ko:
            return f"{en} and {en2}", f"{_particle(ko, '과', '와')} {_particle(ko2, '을', '를')}"
    if kind == "whose" and en.startswith("the ") and {"thing", "read"} & set(o_tags.split()):
        owner_en, owner_ko, _ = _zipf(rng, _nouns("person"))
        if owner_en != subject[0]:
            return f"{owner_en}'s {en[4:]}", f"{owner_ko}의 {_particle(ko, '을', '를')}"
    return en, _particle(ko, "을", "를")


# Verbs that take a place (공원에서, "in the park"), a companion (엄마와, "with Mom") or a tool
# (펜으로, "with the pen") beside their object; not the ones of feeling ("likes it with Mom").
_WITH_EXTRAS = {"eat", "drink", "buy", "read", "see", "make", "study", "write", "find", "listen to", "learn",
                "draw", "sing", "wash", "teach", "sell", "wait for", "meet", "help", "order", "borrow", "choose"}


def transitive_sentence(rng):
    """Someone does something to something: 'I eat the apple.' -> '나는 사과를 먹는다.' (the
    object with 을/를, or as `_object` says), sometimes somewhere ('in the park', 공원에서), with
    someone ('with Mom', 엄마와) or with a tool ('with the pen', 펜으로)."""
    verb, stem, a_form, tags = _zipf(rng, TRANSITIVE)
    subject = _subject(rng, verb[0])
    form = _form(rng, subject, verb[0])
    en, ko = _object(rng, tags, form, subject)
    en, ko = " " + en, ko + " "
    if verb[0] in _WITH_EXTRAS and rng.random() < 0.25:
        extra = rng.choice(["place", "person", "tool"] if verb[0] in ("write", "draw") else ["place", "person"])
        noun = _zipf(rng, _nouns(extra))
        if noun[0] != subject[0] and noun[0] not in en:
            if extra == "place":
                en, ko = f"{en} {_where(noun)}", f"{_particle(noun[1], '에서')} {ko}"
            elif extra == "person":
                en, ko = f"{en} with {noun[0]}", f"{_particle(noun[1], '과', '와')} {ko}"
            else:
                en, ko = f"{en} with {noun[0]}", f"{_by(noun[1])} {ko}"
    return _clause(subject, verb, en, ko, stem, a_form, form)


def giving_sentence(rng):
    """Someone gives something to someone or does something for them, the person with 에게:
    'I showed the photo to Mom.' -> '나는 엄마에게 사진을 보여 줬다.', 'She will buy the cake for
    the child.' -> '그녀는 아이에게 케이크를 사 줄 것이다.'"""
    verb, stem, a_form, tags, to = _zipf(rng, GIVING)
    subject = _subject(rng, verb[0])
    form = _form(rng, subject, verb[0])
    to_en, to_ko, _ = _zipf(rng, [n for n in _nouns("person") if n[0] != subject[0]])
    o_en, o_ko, _ = _described(rng, _zipf(rng, _nouns(*tags.split())))
    return _clause(subject, verb, f" {o_en} {to} {to_en}", f"{to_ko}에게 {_particle(o_ko, '을', '를')} ",
                   stem, a_form, form)


def place_sentence(rng):
    """Someone goes somewhere ('She went to the park.' -> '그녀는 공원에 갔다.', the place with
    에), sometimes by some way ('by bus', 버스로), or does something there ('I study at the
    library.' -> '나는 도서관에서 공부한다.', 에서); sometimes with someone ('with Mom', 엄마와)."""
    motion = rng.random() < 0.5
    verb, stem, a_form = _zipf(rng, MOTION if motion else ACTIVITIES)
    subject = _subject(rng, verb[0])
    form = _form(rng, subject, verb[0])
    place = _zipf(rng, _nouns("place"))
    en, ko = (f" {place[0]}", _particle(place[1], "에") + " ") if motion else \
        (f" {_where(place)}", _particle(place[1], "에서") + " ")
    r = rng.random()
    if r < 0.2:
        c_en, c_ko, _ = _zipf(rng, _nouns("person"))
        if c_en != subject[0]:
            en, ko = f"{en} with {c_en}", _particle(c_ko, "과", "와") + " " + ko
    elif r < 0.4 and motion:
        v_en, v_ko, _ = _zipf(rng, _nouns("vehicle"))
        en, ko = f"{en} by {v_en[4:]}", f"{_by(v_ko)} {ko}"
    return _clause(subject, verb, en, ko, stem, a_form, form)


def existence_sentence(rng):
    """Something or someone is (not) somewhere: 'The book is in the room.' -> '책이 방에 있다.'
    (the subject particle 이/가, the place with 에; 없다 'is not there'); 'Was the cat in the
    garden?' -> '고양이가 정원에 있었어요?'"""
    t_en, t_ko, _ = _described(rng, _zipf(rng, _nouns("thing", "person", "animal")))
    place = _zipf(rng, _nouns("place"))
    form = rng.choice(["is", "was", "is not", "was not", "is?", "was?"])
    ko_verb = {"is": "있다", "was": "있었다", "is not": "없다", "was not": "없었다", "is?": "있어요?",
               "was?": "있었어요?"}[form]
    en = f"{form[:-1]} {t_en} {_where(place)}" if form.endswith("?") else f"{t_en} {form} {_where(place)}"
    return _sentence(en, f"{_particle(t_ko, '이', '가')} {_particle(place[1], '에')} {ko_verb}")


def description_sentence(rng):
    """Something is (not) some way: 'The park is quiet.' -> '공원은 조용하다.' (a statement takes
    the topic particle 은/는, a question 이/가: 'Was the coffee hot?' -> '커피가 뜨거웠어요?'), or
    more so than another, which takes 보다: 'The apple is bigger than the orange.' -> '사과는 오렌지보다
    크다.'"""
    adjective, comparative, stem, a_form, tags = _zipf(rng, ADJECTIVES)
    nouns = _nouns(*tags.split())
    n_en, n_ko, _ = _zipf(rng, nouns)
    other = _zipf(rng, nouns)
    if rng.random() < 0.25 and other[1] != n_ko:
        form = rng.choice(["is", "was", "is?"])
        adjective, than_ko = f"{comparative} than {other[0]}", _particle(other[1], "보다") + " "
    else:
        form = rng.choice(["is", "was", "is not", "was not", "is?", "was?"])
        than_ko = ""
    ko_adj = {"is": stem + "다", "was": _past(a_form) + "다", "is not": stem + "지 않다",
              "was not": stem + "지 않았다", "is?": a_form + "요?", "was?": _past(a_form) + "어요?"}[form]
    ko_noun = _particle(n_ko, "이", "가") if form.endswith("?") else _particle(n_ko, "은", "는")
    en = f"{form[:-1]} {n_en} {adjective}" if form.endswith("?") else f"{n_en} {form} {adjective}"
    return _sentence(en, f"{ko_noun} {than_ko}{ko_adj}")


def two_clause_sentence(rng):
    """Two things one after the other, joined by the first verb's ending: 고 'and' ('He ate the
    bread and drank the milk.' -> '그는 빵을 먹고 우유를 마셨다.'); 아서/어서 after going somewhere
    ('I went to the market and bought the apple.' -> '나는 시장에 가서 사과를 샀다.'); or 지만
    'but', the two objects contrasted with 은/는 ('She likes the apple but not the bread.' ->
    '그녀는 사과는 좋아하지만 빵은 좋아하지 않는다.'). The tense goes on the last verb."""
    subject = _subject(rng, "read")
    past = rng.random() < 0.5
    third = subject[2]
    doings = [v for v in TRANSITIVE if v[0][0] in ("eat", "drink", "buy", "read", "see", "make", "write", "wash",
                                                    "like", "meet", "order", "borrow")]

    def en_verb(verb):
        return verb[2] if past else verb[1] if third else verb[0]

    def ko_verb(stem, a_form):
        return _past(a_form) + "다" if past else _plain_present(stem)

    kind = rng.choice(["and", "go and", "but"])
    if kind == "but":
        verb, stem, a_form, tags = _zipf(rng, doings)
        (e1, k1, _), (e2, k2, _) = rng.sample(_nouns(*tags.split()), 2)
        do = "did" if past else "does" if third else "do"
        first = (_past(a_form) if past else stem) + "지만"
        negation = "not" if verb[0] in STATIVE or rng.random() < 0.5 else f"{do} not {verb[0]}"  # or "did not eat"
        en = f"{subject[0]} {en_verb(verb)} {e1} but {negation} {e2}"
        return _sentence(en, f"{subject[1]} {_particle(k1, '은', '는')} {first} {_particle(k2, '은', '는')} "
                             f"{stem}지 {'않았다' if past else '않는다'}")
    if kind == "go and":
        verb1, stem1, a_form1 = _zipf(rng, MOTION[:2])  # go, come
        place = _zipf(rng, _nouns("place"))
        verb2, stem2, a_form2, tags2 = _zipf(rng, [v for v in doings if v[0][0] not in STATIVE])
        o_en, o_ko, _ = _zipf(rng, _nouns(*tags2.split()))
        if rng.random() < 0.5:  # 'I went to the market to buy the apple.' -> '나는 사과를 사러 시장에 갔다.'
            en = f"{subject[0]} {en_verb(verb1)} {place[0]} to {verb2[0]} {o_en}"
            return _sentence(en, f"{subject[1]} {_particle(o_ko, '을', '를')} {_purpose(stem2)} "
                                 f"{_particle(place[1], '에')} {ko_verb(stem1, a_form1)}")
        en = f"{subject[0]} {en_verb(verb1)} {place[0]} and {en_verb(verb2)} {o_en}"
        return _sentence(en, f"{subject[1]} {_particle(place[1], '에')} {a_form1}서 {_particle(o_ko, '을', '를')} "
                             f"{ko_verb(stem2, a_form2)}")
    (verb1, stem1, a_form1, tags1), (verb2, stem2, a_form2, tags2) = rng.sample(doings, 2)
    o1, o2 = _zipf(rng, _nouns(*tags1.split())), _zipf(rng, _nouns(*tags2.split()))
    en = f"{subject[0]} {en_verb(verb1)} {o1[0]} and {en_verb(verb2)} {o2[0]}"
    return _sentence(en, f"{subject[1]} {_particle(o1[1], '을', '를')} {stem1}고 {_particle(o2[1], '을', '를')} "
                         f"{ko_verb(stem2, a_form2)}")


# How often each kind of sentence is drawn.
SENTENCES = [(transitive_sentence, 40), (place_sentence, 18), (description_sentence, 15),
             (existence_sentence, 10), (giving_sentence, 7), (two_clause_sentence, 10)]


def hangul_pairs(n=3500, seed=2024):
    """`n` distinct (English, Korean) sentence pairs drawn from the grammar above."""
    rng = random.Random(seed)
    pairs = {}
    kinds, weights = zip(*SENTENCES)
    while len(pairs) < n:
        pairs.setdefault(rng.choices(kinds, weights=weights)[0](rng), None)
    return list(pairs)


# ---- the runs ----------------------------------------------------------------------------------


def run(name, spec, settings, corpus_options, seed, log, out=None):
    task = load_task(spec, corpus_options)
    start = time.perf_counter()
    translator, history, _ = train_task(task, out=out, seed=seed, log=log, **settings)
    seconds = time.perf_counter() - start
    test = evaluate(translator, task.test)
    rate = sum(r["tokens"] for r in history) / sum(r["seconds"] for r in history)  # training steps only
    print(f"| {name} | {len(history)} | {seconds:.0f} | {rate:,.0f} | {test['bleu']:.1f} | {test['chrf']:.1f} | "
          f"{100 * test['exact']:.1f} | {len(test['sources'])} |", flush=True)
    return test


def show_samples(test, k=8):
    ranked = sorted(zip(test["sources"], test["hyps"], test["refs"]), key=lambda r: r[1] in r[2])
    for source, hyp, refs in ranked[:k // 2] + ranked[-k // 2:]:
        print(f"  {'ok' if hyp in refs else '  '}  {source:35s} -> {hyp:40s} ({refs[0]})")


def korean_words(text):
    """The words of a text as the word-level recipe's vocabulary holds them (WordTokenizer's
    tokens), punctuation left out: '나는 사과를 먹는다.' -> ['▁나는', '▁사과를', '▁먹는다']."""
    return [t for t in WordTokenizer().tokenize(text) if any(c.isalnum() for c in t)]


def unseen_words(task):
    """(test target words that no training target holds, all test target words, test
    sentences holding such a word): what a word-level model has no token for."""
    seen = {w for _, target in task.train for w in korean_words(target)}
    words = [w for _, target in task.test for w in korean_words(target)]
    sentences = [s for s, target in task.test if any(w not in seen for w in korean_words(target))]
    return [w for w in words if w not in seen], words, sentences


def show_unseen(test, sources, unseen, k=3):
    """How many of the test words unseen in training the translations hold (where the
    reference has them), and the translations of the first k test sentences that need such a
    word (the same sentences for every recipe)."""
    total, unseen, found = len(unseen), set(unseen), 0
    for hyp, refs in zip(test["hyps"], test["refs"]):
        found += sum(w in korean_words(hyp) for w in korean_words(refs[0]) if w in unseen)
    print(f"  test words unseen in training that the translations hold: {found} of {total}")
    print("  test sentences that need a word form no training sentence holds:")
    rows = {s: (h, r) for s, h, r in zip(test["sources"], test["hyps"], test["refs"])}
    for source in list(dict.fromkeys(sources))[:k]:
        hyp, refs = rows[source]
        print(f"  {'ok' if hyp in refs else '  '}  {source:35s} -> {hyp:40s} ({refs[0]})")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=str(CORPUS))
    p.add_argument("--lines", type=int, default=18000)
    p.add_argument("--recipe", choices=sorted(RECIPES), action="append")
    p.add_argument("--swap-columns", action="store_true", help="French -> English")
    p.add_argument("--time-limit", type=float, default=None,
                   help="seconds of training per run (default 900; 300 with --synthetic-hangul)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--synthetic-hangul", action="store_true",
                   help="English -> Korean sentences sampled from a grammar (see hangul_pairs), split by source")
    p.add_argument("--hangul-pairs", type=int, default=3000, help="sentence pairs to sample (default 3000)")
    p.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="extra settings, e.g. hidden_size=384")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.add_argument("--out-dir", default="runs/real_corpus",
                   help="where each run's checkpoint goes, RECIPE-DIRECTION.npz (default runs/real_corpus), and "
                        "the sampled Korean corpus; `nprnn plot scores --checkpoint` draws its validation scores "
                        "per epoch")
    args = p.parse_args()
    extra = {}
    for item in args.set:
        key, value = item.split("=", 1)
        extra[key] = None if value == "None" else type_of(value)
    log = (lambda *a: None) if args.quiet else print
    time_limit = args.time_limit if args.time_limit is not None else 300.0 if args.synthetic_hangul else 900.0
    with tempfile.TemporaryDirectory() as folder:
        options = CorpusOptions(swap_columns=args.swap_columns)
        unseen = unseen_sources = None
        if args.synthetic_hangul:
            # kept beside the checkpoints, so that `nprnn evaluate --checkpoint` rebuilds the split
            path = Path(args.out_dir) / f"en-ko-synthetic-{args.hangul_pairs}.tsv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{en}\t{ko}\n" for en, ko in hangul_pairs(args.hangul_pairs)), encoding="utf-8")
            options = CorpusOptions()
            task = load_task(f"tsv:{path}", options)
            unseen, words, unseen_sources = unseen_words(task)
            print(f"{args.hangul_pairs:,} sentence pairs sampled into {path}: {task.summary()}")
            print(f"test Korean words that no training sentence holds: {len(unseen):,} of {len(words):,} "
                  f"({100 * len(unseen) / len(words):.1f}%), in {len(set(unseen_sources)):,} of "
                  f"{len({s for s, _ in task.test}):,} test sentences; e.g. "
                  f"{', '.join(w.lstrip(chr(0x2581)) for w in list(dict.fromkeys(unseen))[:8])}")
        else:
            path = subset(args.corpus, args.lines, folder)
        print("| recipe | epochs | seconds | tok/s | BLEU | chrF | exact % | test sources |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in args.recipe or (["default", "word-baseline"] if args.synthetic_hangul else ["default"]):
            settings = {**RECIPES[name], "time_limit": time_limit, **extra}
            direction = "en-ko" if args.synthetic_hangul else "fr-en" if args.swap_columns else "en-fr"
            out = Path(args.out_dir) / f"{name}-{direction}.npz"
            test = run(name, f"tsv:{path}", settings, options, args.seed, log, out=out)
            show_samples(test)
            if unseen_sources:
                show_unseen(test, unseen_sources, unseen)


def type_of(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(text, text)


if __name__ == "__main__":
    main()

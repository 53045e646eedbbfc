"""Stop words of key phrases: the words that may not begin or end one, in the languages the extractor knows.

The English list goes past function words: it also holds the verbs, adverbs, numbers and vague
adjectives that too often begin or end a phrase ("ask", "actually", "one", "available"), tuned on
the Signals posts' own keywords.
"""

from __future__ import annotations

import functools

__all__ = ["LANGUAGES", "stopwords"]

_ENGLISH = frozenset(
    """a about above across after afterwards again against all almost alone along already also although always am
    among amongst an and another any anybody anyhow anyone anything anyway anywhere are aren't around as at be became
    because become becomes becoming been before beforehand behind being below beside besides between beyond both but
    by can cannot can't could couldn't did didn't do does doesn't doing done don't down due during each either else
    elsewhere enough especially etc even ever every everybody everyone everything everywhere except few for former
    formerly from further furthermore had hadn't has hasn't have haven't having he hence her here hereby herein hers
    herself him himself his how however i if in indeed instead into is isn't it its it's itself just last latter
    latterly least less let many may maybe me meanwhile might mine more moreover most mostly much must my myself
    namely neither never nevertheless next no nobody none noone nor not nothing now nowhere of off often on once one
    only onto or other others otherwise our ours ourselves out over own per perhaps quite rather really same several
    she should shouldn't since so some somebody somehow someone something sometime sometimes somewhat somewhere still
    such than that that's the their theirs them themselves then thence there thereafter thereby therefore therein
    these they this those though through throughout thus to together too toward towards under unless until up upon
    us very via was wasn't we well were weren't what whatever when whence whenever where whereas whereby wherever
    whether which while whither who whoever whole whom whose why will with within without won't would wouldn't yet
    you your yours yourself yourselves i'm i've you're we're they're we've they've i'd you'd he's she's let's
    new like amid whilst versus vs
    one two three four five six seven eight nine ten zero first second third secondly fifth
    actually certainly clearly currently definitely entirely exactly hardly hopefully lately likely unlikely mainly
    merely mostly nearly normally obviously particularly presumably probably relatively respectively seriously truly
    unfortunately usually thoroughly accordingly consequently soon later far near little
    able available certain possible sure various different particular necessary useful best better right old
    ask asks asked asking come comes came coming get gets got getting gotten go goes going gone went give gives given
    know knows known keep keeps kept look looks looking say says said saying see sees seeing seen saw seem seems
    seemed seeming take takes taken took tell tells think thinks try tries tried trying use uses used using want
    wants need needs mean means way course example value self non ok okay yes please thanks""".split()
)

_OTHER = {
    "de": "aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei bin bis bist da "
    "damit dann das dass dein dem den der des dich die dies diese dieser dieses dir doch dort du durch ein eine einem "
    "einen einer eines er es etwas euch euer für gegen hat hatte hier hin hinter ich ihm ihn ihr ihre im in ist ja "
    "jede jedem jeden jeder jedes jetzt kann kein keine können machen man mehr mein mich mit muss nach nicht nichts "
    "noch nun nur ob oder ohne sehr sein seine sich sie sind so sollen sondern über um und uns unser unter viel vom "
    "von vor wann warum was weil welche wenn werden wie wieder wir wird wo wurde wurden zu zum zur zwischen soll "
    "sollen sollte kann könnte muss müssen darf wäre hätte haben habe gibt gab schon immer sowie bereits",
    "fr": "à au aux avec ce ces cette comme dans de des du elle elles en est et être eux il ils je la le les leur "
    "leurs lui ma mais me même mes moi mon ne nos notre nous on ont ou où par pas pour qu que qui sa sans se ses son "
    "sont sur ta te tes toi ton tous tout toute toutes très tu un une vos votre vous été était sera aussi plus entre "
    "fait faire peut cela ceci dont lors avoir",
    "es": "a al algo algunos ante antes como con contra cual cuando de del desde donde durante e el ella ellas "
    "ellos en entre era es esa esas ese eso esos esta estas este esto estos fue fueron ha han hasta hay la las le "
    "les lo los más me mi muy nada ni no nos o otra otro para pero poco por porque que quien se sea ser si sin sobre "
    "son su sus también te tiene tienen todo todos tu un una uno unos y ya puede pueden están está",
    "it": "a ad al alla alle anche che chi ci come con da dal dalla dei del della delle di dove e è ed era gli ha "
    "hanno i il in io la le lei lo loro lui ma mi ne nei nel nella noi non o per più può quale quando questa questo "
    "se si sono su sua sue suo sul sulla tra tu un una uno anche essere sono stato molto",
    "pt": "a ao aos as até com como da das de dela dele deles do dos e é ela elas ele eles em entre era essa esse "
    "esta este eu foi for foram há isso isto já la mais mas me mesmo muito na nas não nem no nos o os ou para pela "
    "pelo por qual quando que se sem ser seu seus sua suas também te tem um uma você são está estão pode podem",
    "nl": "aan al alle als bij dan dat de deze die dit doen door een en er geen had heb hebben heeft hem het hier "
    "hij hoe hun ik in is ja je kan kon maar me meer men met mij mijn na naar niet niets nog nu of om omdat ons ook "
    "op over te tegen toen tot u uit van veel voor want was wat we wel werd wie wij wil worden zal ze zich zij zijn "
    "zo zonder zou",
    "ru": "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было "
    "вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять "
    "уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без "
    "будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти "
    "мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше "
    "тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше "
    "чуть том нельзя такой им более всегда конечно всю между это также которые который которая",
}

# Languages whose stop words are known.
LANGUAGES = frozenset({"en", *_OTHER})


@functools.lru_cache(maxsize=32)
def stopwords(language: str | None) -> frozenset[str]:
    """The stop words of a language code ("en", "de-AT"); of every known language for None; English otherwise."""
    if language is None:
        return _ENGLISH.union(*(frozenset(words.split()) for words in _OTHER.values()))
    code = language.lower().split("-")[0].split("_")[0]
    if code in _OTHER:
        return frozenset(_OTHER[code].split())
    return _ENGLISH

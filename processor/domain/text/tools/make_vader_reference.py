#!/usr/bin/env python3
"""Writes the VADER reference tables used by sentiment_test.cc.

Scores a fixed list of crafted sentences (one or more per VADER rule) and a deterministic sample
of real customer-care texts with the reference implementation, vaderSentiment 3.3.2 (PyPI, MIT):

  python3 -m venv /tmp/vader-venv && /tmp/vader-venv/bin/pip install vaderSentiment==3.3.2
  /tmp/vader-venv/bin/python processor/domain/text/tools/make_vader_reference.py \
      --datasets /work/shared/datasets --out processor/domain/text/testdata

Outputs:
  vader_reference.tsv           compound<TAB>text   (crafted sentences; text escaped: \\t \\n \\\\)
  vader_reference_datasets.tsv  source<TAB>key<TAB>compound   (real texts, referenced by key and
                                read from the shared datasets by the test, never copied here)
"""
import argparse
import csv
import json
import os

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

CRAFTED = [
    # Examples from vaderSentiment's own __main__.
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Not bad at all",
    # Empty and neutral.
    "",
    "   ",
    "My account number ends in 4411.",
    "Please call me back tomorrow morning.",
    # Boosters and dampeners, at distance 1, 2 and 3.
    "The service was extremely good.",
    "The service was extremely very good.",
    "The agent was really quite helpful.",
    "The wait was slightly annoying.",
    "The delay was barely acceptable.",
    "It was sort of okay.",
    "It was kind of a mess.",
    "The refund was just enough to cover it.",
    # ALL CAPS emphasis (mixed case) and all-caps text (no emphasis).
    "The app is TERRIBLE and I am annoyed.",
    "THE APP IS TERRIBLE AND I AM ANNOYED.",
    "I am VERY happy with the fix.",
    "I am VERY unhappy with the fix.",
    # Negation: one, two and three words before, contractions, "never so".
    "The agent was not helpful.",
    "The agent was not very helpful.",
    "I don't think it is good.",
    "I can't say I am happy.",
    "Nobody has ever not been helpful here.",
    "I have never been so happy with a bank.",
    "I have never had this good service.",
    "Without doubt the best support team.",
    "You arent helping at all.",
    "It doesnt work and isnt fixed.",
    # "least".
    "This is the least helpful service.",
    "At least the refund arrived.",
    "It was the very least useful answer.",
    # "no".
    "No problem at all.",
    "There is no help and no refund.",
    "No love or respect from this company.",
    "I got no answer.",
    # "but".
    "The staff were friendly but the wait was awful.",
    "Great phone, but terrible battery.",
    "I was happy but now I am angry but calm.",
    "good good but bad bad",
    "nice fine but ok ok",
    # Special cases and idioms.
    "This update is the bomb.",
    "Yeah right, like that will help.",
    "That was the kiss of death for my account.",
    "Your pizza is to die for.",
    "Waiting at the bus stop since noon.",
    "The new phone is the shit.",
    "That agent is a bad ass negotiator.",
    "Honestly it was sort of the kiss of death.",
    # Punctuation emphasis.
    "This is great!",
    "This is great!!",
    "This is great!!!!!!",
    "Why is this so bad??",
    "Why is this so bad???",
    "Why is this so bad?????",
    "Is it fixed?",
    # Tokenisation: punctuation stripping, emoticons, contractions.
    "Thanks!!! :-)",
    "Terrible... :( really",
    "(great) [awful] {nice}",
    "ok... <3",
    "I'm not happy; you've been useless.",
    "'good' \"bad\" --love--",
    "#fail @support",
    # Emoji replaced by their descriptions.
    "Thanks so much \U0001F600",
    "Still broken \U0001F621\U0001F621",
    "Love it\u2764",
    # Unicode: non-breaking and other Unicode spaces split words, Latin-1 capitals count for
    # ALL CAPS, curly apostrophes are not "n't" negations, upper-case lexicon keys never match.
    "I am happy\u00a0today",
    "good\u2003bad",
    "\u00c9COLE is GREAT but caf\u00e9 is bad",
    "A\u00e9 GOOD day",
    "it\u2019s not good",
    "don\u2019t like it",
    "\u201cgreat\u201d service",
    "XD lol",
    ":D",
    "emoji mid\U0001F600word",
    # Rule corners: repeated "no", a lone "but", repeated values around "but" (VADER's
    # list.index quirk), "never this", "without doubt", "very least".
    "no no no",
    "but good",
    "good but but bad",
    "ok ok but ok",
    "sux sux sux but",
    "never this bad",
    "without doubt good",
    "very least good",
    "not the bomb",
    "it was sort of kind of good",
    "good!?!?",
    # Customer-care turns.
    "I want to speak to a manager right now, this is unacceptable!",
    "This is the third time I've called and it's still not fixed.",
    "I'm going to cancel my subscription if this isn't sorted today.",
    "Thank you so much for your help, the issue is resolved.",
    "Your customer service is a joke. I will be reporting you to the ombudsman.",
    "Been on hold for 45 minutes. Absolutely ridiculous.",
    "The engineer was lovely and fixed everything quickly :)",
    "I'm not angry, just disappointed.",
]


def escape(text):
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace(
        "\r", "\\r")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default="/work/shared/datasets")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..",
                                                      "testdata"))
    parser.add_argument("--tweet_stride", type=int, default=35)
    parser.add_argument("--turn_stride", type=int, default=12)
    args = parser.parse_args()
    analyzer = SentimentIntensityAnalyzer()

    with open(os.path.join(args.out, "vader_reference.tsv"), "w", encoding="utf-8") as out:
        for text in CRAFTED:
            compound = analyzer.polarity_scores(text)["compound"]
            out.write("%.4f\t%s\n" % (compound, escape(text)))

    rows = []
    with open(os.path.join(args.datasets, "complaint_labels", "complaints_train.csv"),
              newline="", encoding="utf-8") as f:
        for index, row in enumerate(csv.reader(f)):
            if index % args.tweet_stride == 0:
                rows.append(("complaint_labels", row[0], row[1]))
    with open(os.path.join(args.datasets, "conversations_ibm", "dev.json"),
              encoding="utf-8") as f:
        conversations = json.load(f)
    index = 0
    for conversation in conversations:
        session = conversation["dialogHeader"]["sessionID"]
        for turn, content in enumerate(conversation["dialogContent"]):
            if index % args.turn_stride == 0:
                rows.append(("conversations_ibm", "%s:%d" % (session, turn), content["message"]))
            index += 1
    with open(os.path.join(args.out, "vader_reference_datasets.tsv"), "w",
              encoding="utf-8") as out:
        for source, key, text in rows:
            compound = analyzer.polarity_scores(text)["compound"]
            out.write("%s\t%s\t%.4f\n" % (source, key, compound))
    print("crafted: %d, datasets: %d" % (len(CRAFTED), len(rows)))


if __name__ == "__main__":
    main()

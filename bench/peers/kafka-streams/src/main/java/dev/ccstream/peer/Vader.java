package dev.ccstream.peer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * VADER compound sentiment (after vaderSentiment 3.3.2) over the same lexicon file ccstream
 * embeds: lexicon lookup, ALL-CAPS emphasis, booster and dampener words (single words and "kind
 * of", "sort of", "just enough") among the three preceding words (decaying 1, 0.95, 0.9),
 * negation among the three preceding words (x -0.74; "never so/this" x 1.25, with
 * vaderSentiment's precedence quirk), the "no" and "least" rules, the "but" shift, '!' and '?'
 * emphasis and the normalisation x / sqrt(x*x + 15).
 *
 * Left out: emoji replacement, the special idioms ("kiss of death", "the bomb"...) and non-ASCII
 * case rules. These change few scores of ordinary English sentences.
 */
final class Vader {
  private static final double B_INCR = 0.293;
  private static final double B_DECR = -0.293;
  private static final double C_INCR = 0.733;
  private static final double N_SCALAR = -0.74;
  private static final double ALPHA = 15.0;

  private static final Set<String> NEGATE = Set.of(
      "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
      "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't", "dont",
      "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither", "don't",
      "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't", "neednt", "needn't",
      "never", "none", "nope", "nor", "not", "nothing", "nowhere", "oughtnt",
      "shant", "shouldnt", "uhuh", "wasnt", "werent", "oughtn't", "shan't", "shouldn't",
      "uh-uh", "wasn't", "weren't", "without", "wont", "wouldnt", "won't", "wouldn't",
      "rarely", "seldom", "despite");

  private static final String[] BOOSTERS = {
      "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably",
      "decidedly", "deeply", "effing", "enormous", "enormously", "entirely",
      "especially", "exceptional", "exceptionally", "extreme", "extremely", "fabulously",
      "flipping", "flippin", "frackin", "fracking", "fricking", "frickin",
      "frigging", "friggin", "fully", "fuckin", "fucking", "fuggin",
      "fugging", "greatly", "hella", "highly", "hugely", "incredible",
      "incredibly", "intensely", "major", "majorly", "more", "most",
      "particularly", "purely", "quite", "really", "remarkably", "so",
      "substantially", "thoroughly", "total", "totally", "tremendous", "tremendously",
      "uber", "unbelievably", "unusually", "utter", "utterly", "very"};
  private static final String[] DAMPENERS = {
      "almost", "barely", "hardly", "kinda", "kindof", "kind-of", "less",
      "little", "marginal", "marginally", "occasional", "occasionally", "partly",
      "scarce", "scarcely", "slight", "slightly", "somewhat", "sorta", "sortof", "sort-of"};

  private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

  private final Map<String, Double> lexicon = new HashMap<>();
  private final Map<String, Double> boosters = new HashMap<>();

  Vader(Path lexiconFile) throws IOException {
    for (String line : Files.readAllLines(lexiconFile, StandardCharsets.UTF_8)) {
      String trimmed = line.strip();
      int tab = trimmed.indexOf('\t');
      if (tab <= 0) continue;
      String word = trimmed.substring(0, tab);
      String rest = trimmed.substring(tab + 1);
      int tab2 = rest.indexOf('\t');
      String measure = tab2 < 0 ? rest : rest.substring(0, tab2);
      if (!word.equals(word.toLowerCase(Locale.ROOT))) continue;
      try {
        lexicon.put(word, Double.parseDouble(measure));
      } catch (NumberFormatException e) {
        // not a lexicon line
      }
    }
    if (lexicon.isEmpty()) throw new IOException("no lexicon entries in " + lexiconFile);
    for (String w : BOOSTERS) boosters.put(w, B_INCR);
    for (String w : DAMPENERS) boosters.put(w, B_DECR);
  }

  int size() {
    return lexicon.size();
  }

  private static boolean isPunct(char c) {
    return PUNCTUATION.indexOf(c) >= 0;
  }

  /** Python's token.strip(string.punctuation), kept only when more than two characters remain. */
  private static String stripPunct(String token) {
    int b = 0;
    int e = token.length();
    while (b < e && isPunct(token.charAt(b))) b++;
    while (e > b && isPunct(token.charAt(e - 1))) e--;
    return e - b <= 2 ? token : token.substring(b, e);
  }

  private static boolean isUpper(String w) {
    boolean any = false;
    for (int i = 0; i < w.length(); i++) {
      char c = w.charAt(i);
      if (Character.isLowerCase(c)) return false;
      if (Character.isUpperCase(c)) any = true;
    }
    return any;
  }

  private static boolean negated(String lower) {
    return NEGATE.contains(lower) || lower.contains("n't");
  }

  private double scalar(String word, String lower, double valence, boolean capDiff) {
    Double b = boosters.get(lower);
    if (b == null) return 0.0;
    double s = b;
    if (valence < 0) s = -s;
    if (capDiff && isUpper(word)) s += valence > 0 ? C_INCR : -C_INCR;
    return s;
  }

  /** Compound sentiment in [-1, 1]. */
  double score(String text) {
    List<String> words = new ArrayList<>();
    int exclamations = 0;
    int questions = 0;
    for (String raw : text.split("\\s+")) {
      if (raw.isEmpty()) continue;
      for (int i = 0; i < raw.length(); i++) {
        char c = raw.charAt(i);
        if (c == '!') exclamations++;
        else if (c == '?') questions++;
      }
      words.add(stripPunct(raw));
    }
    int n = words.size();
    if (n == 0) return 0.0;
    String[] lower = new String[n];
    int upperCount = 0;
    for (int i = 0; i < n; i++) {
      lower[i] = words.get(i).toLowerCase(Locale.ROOT);
      if (isUpper(words.get(i))) upperCount++;
    }
    boolean capDiff = upperCount > 0 && upperCount < n;

    double[] sentiments = new double[n];
    for (int i = 0; i < n; i++) {
      String lw = lower[i];
      // Boosters carry no valence of their own, nor does "kind" in "kind of".
      if (boosters.containsKey(lw) || (i + 1 < n && lw.equals("kind") && lower[i + 1].equals("of"))) {
        continue;
      }
      Double base = lexicon.get(lw);
      if (base == null) continue;
      double valence = base;
      if (lw.equals("no") && i != n - 1 && lexicon.containsKey(lower[i + 1])) valence = 0.0;
      if ((i > 0 && lower[i - 1].equals("no")) || (i > 1 && lower[i - 2].equals("no"))
          || (i > 2 && lower[i - 3].equals("no")
              && (lower[i - 1].equals("or") || lower[i - 1].equals("nor")))) {
        valence = base * N_SCALAR;
      }
      if (capDiff && isUpper(words.get(i))) valence += valence > 0 ? C_INCR : -C_INCR;
      for (int start = 0; start < 3; start++) {
        int j = i - (start + 1);
        if (j < 0 || lexicon.containsKey(lower[j])) continue;
        double s = scalar(words.get(j), lower[j], valence, capDiff);
        if (start == 1) s *= 0.95;
        else if (start == 2) s *= 0.9;
        valence += s;
        valence = negationCheck(valence, lower, start, i);
        if (start == 2) valence += boosterNgrams(lower, i);
      }
      // "least": "least X" negates X, except "at least" and "very least".
      if (i > 1 && !lexicon.containsKey(lower[i - 1]) && lower[i - 1].equals("least")) {
        if (!lower[i - 2].equals("at") && !lower[i - 2].equals("very")) valence *= N_SCALAR;
      } else if (i > 0 && !lexicon.containsKey(lower[i - 1]) && lower[i - 1].equals("least")) {
        valence *= N_SCALAR;
      }
      sentiments[i] = valence;
    }

    // "but": the part before it counts half, the part after one and a half. As in vaderSentiment,
    // each value is located with list.index (its first occurrence).
    for (int b = 0; b < n; b++) {
      if (!lower[b].equals("but")) continue;
      for (int k = 0; k < n; k++) {
        double v = sentiments[k];
        int si = 0;
        while (sentiments[si] != v) si++;
        if (si < b) sentiments[si] = v * 0.5;
        else if (si > b) sentiments[si] = v * 1.5;
      }
      break;
    }

    double sum = 0;
    for (double s : sentiments) sum += s;
    if (sum == 0.0) return 0.0;
    double emphasis = Math.min(exclamations, 4) * 0.292;
    if (questions > 1) emphasis += questions <= 3 ? questions * 0.18 : 0.96;
    sum += sum > 0 ? emphasis : -emphasis;
    double norm = sum / Math.sqrt(sum * sum + ALPHA);
    return Math.max(-1.0, Math.min(1.0, norm));
  }

  /** The multi-word dampeners "kind of", "sort of", "just enough" among the 3 preceding words. */
  private static double boosterNgrams(String[] lower, int i) {
    double add = 0;
    String a = lower[i - 3];
    String b = lower[i - 2];
    String c = lower[i - 1];
    if (isDampenerPair(a, b)) add += B_DECR;
    if (isDampenerPair(b, c)) add += B_DECR;
    return add;
  }

  private static boolean isDampenerPair(String x, String y) {
    return (x.equals("kind") && y.equals("of")) || (x.equals("sort") && y.equals("of"))
        || (x.equals("just") && y.equals("enough"));
  }

  private static double negationCheck(double valence, String[] lower, int start, int i) {
    switch (start) {
      case 0:
        if (negated(lower[i - 1])) valence *= N_SCALAR;
        break;
      case 1:
        if (lower[i - 2].equals("never") && (lower[i - 1].equals("so") || lower[i - 1].equals("this"))) {
          valence *= 1.25;
        } else if (lower[i - 2].equals("without") && lower[i - 1].equals("doubt")) {
          // unchanged
        } else if (negated(lower[i - 2])) {
          valence *= N_SCALAR;
        }
        break;
      default:
        // vaderSentiment's operator precedence: "so"/"this" just before the word counts even
        // without "never".
        if ((lower[i - 3].equals("never")
                && (lower[i - 2].equals("so") || lower[i - 2].equals("this")))
            || lower[i - 1].equals("so") || lower[i - 1].equals("this")) {
          valence *= 1.25;
        } else if (lower[i - 3].equals("without")
            && (lower[i - 2].equals("doubt") || lower[i - 1].equals("doubt"))) {
          // unchanged
        } else if (negated(lower[i - 3])) {
          valence *= N_SCALAR;
        }
        break;
    }
    return valence;
  }
}

package org.llmkit.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Builds test corpora: English-like prose from a fixed word list, and random-word documents. */
final class Corpora {

    private static final String[] COMMON = ("the of and to in that is was he for it with as his on be at by had are "
            + "but from or have an they which one you were her all she there would their we him been has when who will "
            + "more no if out so said what up its about into than them can only other new some could time these two may "
            + "then do first any my now such like our over man me even most made after also did many before must through "
            + "back years where much your way well down should because each just those people how too little state good "
            + "very make world still own see men work long get here between both life being under never day same another "
            + "know while last might us great old year off come since against go came right used take three").split(" ");

    private static final String[] STOP = {"the", "of", "and", "to", "with"};

    private Corpora() {
    }

    /** A readable English-like document of about {@code words} words, in sentences, passing Gopher's rules. */
    static String prose(Random random, int words) {
        StringBuilder text = new StringBuilder();
        int inSentence = 0;
        for (int i = 0; i < words; i++) {
            String word = random.nextInt(5) == 0 ? STOP[random.nextInt(STOP.length)] : COMMON[random.nextInt(COMMON.length)];
            if (inSentence == 0) {
                word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
            }
            text.append(word);
            inSentence++;
            if (inSentence > 8 + random.nextInt(8)) {
                text.append(". ");
                inSentence = 0;
            } else {
                text.append(' ');
            }
        }
        return text.toString().strip() + ".";
    }

    /** A document of {@code n} words drawn from a huge random vocabulary: every 5-word shingle is unique. */
    static List<String> uniqueWords(Random random, int n) {
        List<String> words = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            words.add(randomWord(random));
        }
        return words;
    }

    static String randomWord(Random random) {
        char[] chars = new char[6 + random.nextInt(4)];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = (char) ('a' + random.nextInt(26));
        }
        return new String(chars);
    }
}

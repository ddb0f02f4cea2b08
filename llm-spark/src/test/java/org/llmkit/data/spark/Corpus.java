package org.llmkit.data.spark;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * A JSON Lines corpus in several files (one gzip-compressed) with everything a pipeline drops:
 * exact copies (some differing only in whitespace), near copies, a near-duplicate chain A~B~C whose
 * ends are not linked, German and French documents, junk that fails Gopher's rules, insults, a bad
 * JSON line and a record without a text field.
 */
final class Corpus {

    private static final String[] WORDS = ("the of and to in that is was he for it with as his on be at by had are "
            + "but from or have an they which one you were her all she there would their we him been has when who will "
            + "more no if out so said what up its about into than them can only other new some could time these two may "
            + "then do first any my now such like our over man me even most made after also did many before must through "
            + "back years where much your way well down should because each just those people how too little state good "
            + "very make world still own see men work long get here between both life being under never day same another "
            + "know while last might us great old year off come since against go came right used take three").split(" ");

    private static final ObjectMapper JSON = new ObjectMapper();

    private Corpus() {
    }

    /** English-like prose of about {@code words} words in sentences (passes Gopher's rules). */
    static String prose(Random random, int words) {
        StringBuilder text = new StringBuilder();
        int inSentence = 0;
        for (int i = 0; i < words; i++) {
            String word = WORDS[random.nextInt(WORDS.length)];
            text.append(inSentence == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
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

    /** Writes the corpus as {@code files} files into a folder; returns the files in name order. */
    static List<Path> write(Path folder, int documents, int files, long seed) throws IOException {
        Random random = new Random(seed);
        List<String> lines = new ArrayList<>();
        List<String> good = new ArrayList<>();
        for (int i = 0; i < documents; i++) {
            String text = prose(random, 60 + random.nextInt(60));
            good.add(text);
            int kind = random.nextInt(20);
            if (kind == 0 && i > 10) { // exact copy of an earlier document, sometimes with other whitespace
                String copy = good.get(random.nextInt(i));
                lines.add(json(Map.of("text", random.nextBoolean() ? copy : "  " + copy.replace(" ", "  ") + "\n")));
            } else if (kind == 1 && i > 10) { // near copy: one word changed
                String[] w = good.get(random.nextInt(i)).split(" ");
                w[random.nextInt(w.length)] = "zebra";
                lines.add(json(Map.of("text", String.join(" ", w), "source", "near")));
            } else if (kind == 2) {
                lines.add(json(Map.of("text", ("Der Ausschuss wird seinen Bericht über die neue Bahnstrecke nächste Woche "
                        + "veröffentlichen, nach langen Anhörungen in vielen Städten und Gemeinden. ").repeat(3) + i)));
            } else if (kind == 3) {
                lines.add(json(Map.of("text", ("Le comité publiera son rapport sur la nouvelle ligne la semaine prochaine, "
                        + "après de longues auditions dans de nombreuses villes. ").repeat(3) + i)));
            } else if (kind == 4) {
                lines.add(json(Map.of("text", "Buy now, item " + i + ".")));
            } else if (kind == 5) {
                lines.add(json(Map.of("text", prose(random, 60) + " You stupid idiot, you moron, shit. " + i)));
            } else if (kind == 6 && i % 3 == 0) {
                lines.add("{\"text\": \"unterminated " + i);
            } else if (kind == 6) {
                lines.add(json(Map.of("body", "no text field " + i)));
            } else {
                lines.add(json(Map.of("text", text, "url", "https://example.org/" + i, "n", i)));
            }
            if (i % 37 == 0) {
                lines.add("");
            }
        }
        Files.createDirectories(folder);
        List<Path> out = new ArrayList<>();
        for (int f = 0; f < files; f++) {
            List<String> part = lines.subList(lines.size() * f / files, lines.size() * (f + 1) / files);
            boolean gzip = f == 1;
            Path file = folder.resolve(String.format("part-%02d.jsonl%s", f, gzip ? ".gz" : ""));
            try (OutputStream o = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
                o.write((String.join("\n", part) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            out.add(file);
        }
        return out;
    }

    private static String json(Map<String, Object> record) {
        try {
            return JSON.writeValueAsString(new java.util.TreeMap<>(record));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

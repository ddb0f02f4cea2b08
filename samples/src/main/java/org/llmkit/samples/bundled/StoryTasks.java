package org.llmkit.samples.bundled;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.llmkit.eval.Example;
import org.llmkit.eval.MultipleChoiceTask;

/**
 * Small multiple-choice tasks on fresh bundled stories (a seed the training corpus does not use), scored by
 * llm-eval's log-likelihood method. A model that learned the stories' language beats chance (1/3 and 1/2).
 *
 * <pre>{@code
 * EvalReport r = Evaluator.of(model).task(StoryTasks.nextSentence(100, 7)).task(StoryTasks.hero(100, 7)).run();
 * }</pre>
 */
public final class StoryTasks {
    private StoryTasks() { }

    /**
     * The next sentence of a story, against two shuffles of its words: does the model know the grammar?
     *
     * @param examples how many, &gt;= 1
     * @param seed the seed
     * @return the task {@code story_next_sentence} (3 choices, chance 1/3)
     */
    public static MultipleChoiceTask nextSentence(int examples, long seed) {
        StoryCorpus corpus = StoryCorpus.seeded(seed);
        Random random = new Random(seed);
        List<Example> list = new ArrayList<>();
        while (list.size() < examples) {
            List<String> sentences = corpus.next().sentences();
            int cut = 1 + random.nextInt(sentences.size() - 1);
            String gold = sentences.get(cut);
            List<String> words = Arrays.asList(gold.split(" "));
            if (words.size() < 4) {
                continue;
            }
            List<String> choices = new ArrayList<>(List.of(gold));
            while (choices.size() < 3) {
                List<String> shuffled = new ArrayList<>(words);
                Collections.shuffle(shuffled, random);
                String s = String.join(" ", shuffled);
                if (!choices.contains(s)) {
                    choices.add(s);
                }
            }
            Collections.shuffle(choices, random);
            list.add(new Example(String.join(" ", sentences.subList(0, cut)), choices, choices.indexOf(gold)));
        }
        return MultipleChoiceTask.of("story_next_sentence", list);
    }

    /**
     * Who found the object: the story's hero, named in the first sentence, or another name? The model has to
     * remember the name.
     *
     * @param examples how many, &gt;= 1
     * @param seed the seed
     * @return the task {@code story_hero} (2 choices, chance 1/2)
     */
    public static MultipleChoiceTask hero(int examples, long seed) {
        StoryCorpus corpus = StoryCorpus.seeded(seed);
        Random random = new Random(seed);
        List<String> names = StoryCorpus.names();
        List<Example> list = new ArrayList<>();
        while (list.size() < examples) {
            StoryCorpus.Story story = corpus.next();
            String third = story.sentences().get(2);
            String prefix = "One day, " + story.hero() + " ";
            if (!third.startsWith(prefix)) {
                continue;
            }
            String rest = third.substring(prefix.length());
            String other = names.get(random.nextInt(names.size()));
            if (other.equals(story.hero()) || other.equals(story.friend())) {
                continue;
            }
            List<String> choices = new ArrayList<>(List.of(story.hero() + " " + rest, other + " " + rest));
            Collections.shuffle(choices, random);
            String context = story.sentences().get(0) + " " + story.sentences().get(1) + " One day,";
            list.add(new Example(context, choices, choices.indexOf(story.hero() + " " + rest)));
        }
        return MultipleChoiceTask.of("story_hero", list);
    }
}

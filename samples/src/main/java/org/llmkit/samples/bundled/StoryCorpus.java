package org.llmkit.samples.bundled;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes short, simple English stories from a small grammar and a seed: the bundled training text of the
 * samples. Every word and sentence pattern is in this file, written for llmkit, so the corpus may be
 * redistributed freely. The same seed always gives the same stories.
 *
 * <pre>{@code
 * List<String> stories = StoryCorpus.seeded(42).stories(1000);   // ~400 characters each
 * }</pre>
 *
 * <p>A story keeps its characters: the hero's name and pronoun, the friend and the object found come back in
 * later sentences, so a model must look back to predict them well.
 */
public final class StoryCorpus {
    /** A character of a story: a name and the pronouns that go with it. */
    private record Hero(String name, String subject, String possessive) {
    }

    /**
     * One generated story.
     *
     * @param hero the main character's name, for example {@code Tom}
     * @param animal what the hero is, for example {@code cat}
     * @param friend the friend's name, never the hero's
     * @param sentences the story's sentences, in order
     */
    public record Story(String hero, String animal, String friend, List<String> sentences) {
        /**
         * Copies the sentences.
         *
         * @param hero the main character's name
         * @param animal what the hero is
         * @param friend the friend's name
         * @param sentences the sentences
         */
        public Story {
            sentences = List.copyOf(sentences);
        }

        /**
         * Returns the story as one paragraph.
         *
         * @return the sentences joined by spaces
         */
        public String text() {
            return String.join(" ", sentences);
        }
    }

    private static final Hero[] HEROES = {
        new Hero("Tom", "he", "his"), new Hero("Lily", "she", "her"), new Hero("Max", "he", "his"),
        new Hero("Mia", "she", "her"), new Hero("Ben", "he", "his"), new Hero("Anna", "she", "her"),
        new Hero("Sam", "he", "his"), new Hero("Zoe", "she", "her"), new Hero("Leo", "he", "his"),
        new Hero("Emma", "she", "her"), new Hero("Jack", "he", "his"), new Hero("Lucy", "she", "her"),
        new Hero("Finn", "he", "his"), new Hero("Ruby", "she", "her"), new Hero("Oscar", "he", "his"),
        new Hero("Ella", "she", "her"), new Hero("Noah", "he", "his"), new Hero("Grace", "she", "her"),
        new Hero("Hugo", "he", "his"), new Hero("Ivy", "she", "her"),
    };
    private static final String[] ANIMALS = {"cat", "dog", "bird", "fox", "rabbit", "bear", "duck", "frog",
        "mouse", "horse", "owl", "turtle", "lion", "pig", "goat", "squirrel"};
    private static final String[] ADJECTIVES = {"little", "big", "happy", "small", "brave", "kind", "shy",
        "clever", "funny", "curious", "gentle", "quick", "sleepy", "friendly"};
    private static final String[] COLORS = {"red", "blue", "green", "yellow", "orange", "purple", "pink",
        "white", "brown"};
    private static final String[] OBJECTS = {"ball", "kite", "box", "hat", "book", "cake", "boat", "drum",
        "shell", "key", "cup", "flower", "stone", "bell", "map", "feather"};
    private static final String[] PLACES = {"park", "garden", "forest", "river", "school", "beach", "farm",
        "hill", "lake", "meadow", "town", "field"};
    /** Activities as {base form, past tense}. */
    private static final String[][] ACTIVITIES = {{"play", "played"}, {"sing", "sang"}, {"dance", "danced"},
        {"run", "ran"}, {"swim", "swam"}, {"draw", "drew"}, {"jump", "jumped"}, {"climb", "climbed"},
        {"read", "read"}, {"paint", "painted"}, {"laugh", "laughed"}, {"explore", "explored"}};
    private static final String[] GOOD_FEELINGS = {"happy", "excited", "glad", "proud", "surprised"};
    private static final String[] WEATHER = {"sunny", "windy", "cold", "warm", "quiet", "bright"};

    private final Random random;

    private StoryCorpus(long seed) {
        this.random = new Random(seed);
    }

    /**
     * Starts a generator.
     *
     * @param seed the seed; the same seed gives the same stories
     * @return the generator
     */
    public static StoryCorpus seeded(long seed) {
        return new StoryCorpus(seed);
    }

    /**
     * Writes stories.
     *
     * @param count how many, &gt;= 0
     * @return the stories, each a paragraph of 7 to 10 sentences
     */
    public List<String> stories(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, was " + count);
        }
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(story());
        }
        return out;
    }

    /**
     * Writes one story.
     *
     * @return the story's text
     */
    public String story() {
        return next().text();
    }

    /**
     * Writes one story with its parts, for tasks that need to know who is in it or to cut it between
     * sentences.
     *
     * @return the story
     */
    public Story next() {
        Hero hero = pick(HEROES);
        Hero friend = pick(HEROES);
        while (friend.name().equals(hero.name())) {
            friend = pick(HEROES);
        }
        String animal = pick(ANIMALS);
        String friendAnimal = pick(ANIMALS);
        String place = pick(PLACES);
        String[] activity = pick(ACTIVITIES);
        String object = pick(OBJECTS);
        String color = pick(COLORS);
        String name = hero.name();
        String he = capitalize(hero.subject());

        List<String> s = new ArrayList<>();
        s.add(switch (random.nextInt(3)) {
            case 0 -> "Once upon a time, there was a " + pick(ADJECTIVES) + " " + animal + " named " + name + ".";
            case 1 -> name + " was a " + pick(ADJECTIVES) + " " + animal + " who lived near the " + place + ".";
            default -> "It was a " + pick(WEATHER) + " day, and " + name + " the " + animal + " woke up early.";
        });
        s.add(switch (random.nextInt(3)) {
            case 0 -> name + " liked to " + activity[0] + " in the " + place + ".";
            case 1 -> "Every day, " + name + " went to the " + place + " to " + activity[0] + ".";
            default -> he + " loved to " + activity[0] + " with " + hero.possessive() + " family.";
        });
        s.add(switch (random.nextInt(3)) {
            case 0 -> "One day, " + name + " found a " + color + " " + object + ".";
            case 1 -> "One morning, " + hero.subject() + " saw a " + color + " " + object + " under a tree.";
            default -> "Near the " + place + ", " + name + " found a shiny " + color + " " + object + ".";
        });
        s.add(he + " was very " + pick(GOOD_FEELINGS) + ".");
        s.add(switch (random.nextInt(2)) {
            case 0 -> name + " showed the " + object + " to " + hero.possessive() + " friend " + friend.name()
                    + ", the " + friendAnimal + ".";
            default -> "Then " + name + " met " + friend.name() + ", a " + pick(ADJECTIVES) + " " + friendAnimal
                    + ".";
        });
        s.add(friend.name() + " said, \"" + switch (random.nextInt(4)) {
            case 0 -> "Let us " + activity[0] + " together!";
            case 1 -> "What a nice " + object + "!";
            case 2 -> "Can I play with the " + object + "?";
            default -> "I like your " + color + " " + object + ".";
        } + "\"");
        if (random.nextBoolean()) {
            s.add(switch (random.nextInt(3)) {
                case 0 -> "But then the " + object + " fell into the river.";
                case 1 -> "Suddenly, the wind took the " + object + " away.";
                default -> "But the " + object + " rolled down the hill.";
            });
            s.add(friend.name() + " helped " + name + " get the " + object + " back.");
        }
        s.add("They " + activity[1] + " together until the sun went down.");
        s.add(switch (random.nextInt(3)) {
            case 0 -> "At the end of the day, " + name + " went home. " + he + " was happy.";
            case 1 -> name + " said thank you to " + friend.name() + ". The end.";
            default -> "From that day on, " + name + " and " + friend.name() + " were best friends.";
        });
        return new Story(name, animal, friend.name(), s);
    }

    /**
     * Returns the names a story's hero or friend can have.
     *
     * @return the names
     */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        for (Hero h : HEROES) {
            out.add(h.name());
        }
        return out;
    }

    private <T> T pick(T[] options) {
        return options[random.nextInt(options.length)];
    }

    private static String capitalize(String word) {
        return Character.toUpperCase(word.charAt(0)) + word.substring(1);
    }
}

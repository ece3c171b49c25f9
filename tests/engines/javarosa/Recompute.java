// Test-only CLI: the values JavaRosa computes for every calculation of FORM.xml, from the
// answers in INSTANCE.xml alone.
//
//   java -cp ODK_Validate.jar:build Recompute FORM.xml INSTANCE.xml [MEDIA_DIR]
//
// exit 0 "OK {json}" | exit 1 "INVALID <ref>: <why>" | exit 2 usage/parse error.
//
// The instance is re-opened the way ODK Collect re-opens a saved instance for editing
// (the same steps as InstanceCheck: restore → populate a copy of the form's template →
// initialize without preloads), except that every node bound by a calculate is emptied
// before initializing, so whatever value the instance carried (from another engine, or
// stale) cannot leak into the result: JavaRosa computes each one again.
//
// {json} is one object, in document order: the path of every *relevant* calculated node
// (relevant = what Collect would submit) → its value, serialized as Collect serializes it
// in the submission. Paths are InstanceCheck.path(): a 1-based position on every repeat
// instance and nowhere else, e.g. "/data/members[2]/age_group", "/data/meta/instanceName".
//
// Compiled together with InstanceCheck (same default package) and reuses its media-dir
// reference factory and its checks that the instance belongs to the form.

import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;

import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.model.instance.FormInstance;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.model.instance.TreeElement;
import org.javarosa.core.model.instance.TreeReference;
import org.javarosa.core.reference.ReferenceManager;
import org.javarosa.model.xform.XFormsModule;
import org.javarosa.model.xform.XPathReference;
import org.javarosa.xform.parse.XFormParser;
import org.javarosa.xform.util.XFormAnswerDataSerializer;
import org.javarosa.xform.util.XFormUtils;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public final class Recompute {

    static final String XFORMS_NS = "http://www.w3.org/2002/xforms";

    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) {
            InstanceCheck.OUT.println("USAGE Recompute FORM.xml INSTANCE.xml [MEDIA_DIR]");
            System.exit(2);
        }
        int code;
        try {
            code = recompute(new File(args[0]), new File(args[1]),
                    args.length == 3 ? new File(args[2]) : null);
        } catch (Throwable e) { // JavaRosa reports bad XML/XPath with assorted RuntimeExceptions
            InstanceCheck.OUT.println("ERROR " + InstanceCheck.oneLine(String.valueOf(e)));
            code = 2;
        }
        InstanceCheck.OUT.flush();
        System.exit(code);
    }

    static int recompute(File formFile, File instanceFile, File mediaDir) throws Exception {
        // Answer-data factory for populate() (see InstanceCheck).
        new XFormsModule().registerModule();
        // Before parsing: jr://file-csv/... and jr://file/... instances are read while parsing.
        if (mediaDir != null) {
            ReferenceManager.instance().addReferenceFactory(new InstanceCheck.MediaDirFactory(mediaDir));
        }

        FormDef form;
        Set<String> calculated;
        try (InputStream in = new FileInputStream(formFile)) {
            form = XFormUtils.getFormFromInputStream(in);
            calculated = calculatedNodesets(formFile);
        } catch (Exception e) {
            InstanceCheck.OUT.println("ERROR form does not parse: " + InstanceCheck.oneLine(String.valueOf(e)));
            return 2;
        }

        TreeElement savedRoot;
        try {
            FormInstance saved = XFormParser.restoreDataModel(Files.readAllBytes(instanceFile.toPath()), null);
            savedRoot = saved.getRoot();
        } catch (RuntimeException e) {
            InstanceCheck.OUT.println("ERROR instance does not parse: " + InstanceCheck.oneLine(String.valueOf(e)));
            return 2;
        }
        TreeElement template = form.getMainInstance().getRoot();

        // populate() matches by element name only: refuse another form's instance outright
        // rather than compute from whatever names happen to overlap.
        if (!template.getName().equals(savedRoot.getName())) {
            return InstanceCheck.invalid("/" + savedRoot.getName(),
                    "root element is <" + savedRoot.getName() + ">, form expects <" + template.getName() + ">");
        }
        String formId = template.getAttributeValue(null, "id");
        String savedId = savedRoot.getAttributeValue(null, "id");
        if (formId != null && !formId.equals(savedId)) {
            return InstanceCheck.invalid("/" + savedRoot.getName() + "/@id",
                    "instance is for form id '" + savedId + "', form id is '" + formId + "'");
        }

        TreeElement root = template.deepCopy(true);
        root.populate(savedRoot, form);
        // An answer populate() dropped would silently change the computed values.
        String lost = InstanceCheck.findDroppedData(savedRoot, root);
        if (lost != null) {
            InstanceCheck.OUT.println("INVALID " + InstanceCheck.oneLine(lost));
            return 1;
        }

        for (TreeElement e : calculatedElements(root, calculated)) {
            e.setValue(null);
        }
        form.getMainInstance().setRoot(root);
        // false = existing instance: no preloads; every calculate is evaluated from scratch.
        form.initialize(false, new InstanceInitializationFactory());

        XFormAnswerDataSerializer serializer = new XFormAnswerDataSerializer();
        StringBuilder json = new StringBuilder("{");
        for (TreeElement e : calculatedElements(root, calculated)) {
            if (!e.isRelevant()) continue; // also false when an ancestor is not relevant
            if (json.length() > 1) json.append(", ");
            json.append(quote(InstanceCheck.path(e))).append(": ").append(quote(serialize(serializer, e)));
        }
        InstanceCheck.OUT.println("OK " + json.append('}'));
        return 0;
    }

    /** "/data/group/name" of every bind with a calculate, as JavaRosa resolves the nodeset. */
    static Set<String> calculatedNodesets(File formFile) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        dbf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        NodeList binds = dbf.newDocumentBuilder().parse(formFile).getElementsByTagNameNS(XFORMS_NS, "bind");
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < binds.getLength(); i++) {
            Element bind = (Element) binds.item(i);
            if (!bind.hasAttribute("calculate")) continue;
            String nodeset = bind.hasAttribute("nodeset") ? bind.getAttribute("nodeset") : bind.getAttribute("ref");
            TreeReference ref = XPathReference.getPathExpr(nodeset).getReference();
            StringBuilder path = new StringBuilder();
            for (int s = 0; s < ref.size(); s++) {
                if (ref.getPredicate(s) != null || ref.getMultiplicity(s) != TreeReference.INDEX_UNBOUND) {
                    throw new IllegalArgumentException("calculate bind with a position or predicate: " + nodeset);
                }
                path.append('/').append(ref.getName(s));
            }
            if (!ref.isAbsolute()) {
                throw new IllegalArgumentException("calculate bind with a relative nodeset: " + nodeset);
            }
            out.add(path.toString());
        }
        return out;
    }

    /** The nodes of the main instance bound by a calculate, in document order, templates excluded. */
    static List<TreeElement> calculatedElements(TreeElement root, Set<String> calculated) {
        List<TreeElement> out = new ArrayList<>();
        collect(root, "/" + root.getName(), calculated, out);
        return out;
    }

    static void collect(TreeElement e, String path, Set<String> calculated, List<TreeElement> out) {
        if (calculated.contains(path)) out.add(e);
        for (int i = 0; i < e.getNumChildren(); i++) {
            TreeElement child = e.getChildAt(i);
            if (child.getMult() == TreeReference.INDEX_TEMPLATE) continue;
            collect(child, path + "/" + child.getName(), calculated, out);
        }
    }

    /** The text Collect would write for this node in the submission (XFormSerializingVisitor). */
    static String serialize(XFormAnswerDataSerializer serializer, TreeElement e) {
        IAnswerData value = e.getValue();
        if (value == null) return "";
        Object text = serializer.serializeAnswerData(value, e.getDataType());
        if (text instanceof String) return (String) text;
        String raw = value.uncast().getString();
        return raw == null ? "" : raw;
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}

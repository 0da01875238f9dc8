//! Django's model field classes, defined once: which have a column, which fill existing rows
//! with an empty string, which are relations, and their `max_length` defaults.

/// Django's concrete field classes (`django.db.models`): a class-level call to one of these is
/// a field with a column (or an M2M table) that `makemigrations` records.
pub(crate) const DJANGO_FIELDS: &[&str] = &[
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "BigIntegerField",
    "BinaryField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "DurationField",
    "EmailField",
    "FileField",
    "FilePathField",
    "FloatField",
    "GenericIPAddressField",
    "ImageField",
    "IntegerField",
    "JSONField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "TimeField",
    "URLField",
    "UUIDField",
    "ForeignKey",
    "OneToOneField",
    "ManyToManyField",
];

/// Django's own field classes that make a column NOT NULL unless `null=True`.
pub(crate) const COLUMN_FIELDS: &[&str] = &[
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "URLField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "FloatField",
    "DecimalField",
    "BooleanField",
    "DateField",
    "DateTimeField",
    "TimeField",
    "DurationField",
    "UUIDField",
    "JSONField",
    "ForeignKey",
    "OneToOneField",
    "FileField",
    "ImageField",
    "FilePathField",
    "GenericIPAddressField",
    "BinaryField",
];
/// Fields for which Django fills existing rows with an empty string when `blank=True`.
pub(crate) const EMPTY_STRING_FIELDS: &[&str] =
    &["CharField", "TextField", "SlugField", "EmailField", "URLField", "FileField", "ImageField", "FilePathField"];

/// Field classes of a many-to-one relation (Django's, modelcluster's, mptt's).
pub(crate) const FK_TYPES: &[&str] = &["ForeignKey", "ParentalKey", "TreeForeignKey"];
/// One-to-one relations (Django's, django-annoying's).
pub(crate) const O2O_TYPES: &[&str] = &["OneToOneField", "AutoOneToOneField"];
/// Many-to-many relations.
pub(crate) const M2M_TYPES: &[&str] = &["ManyToManyField", "ParentalManyToManyField", "TreeManyToManyField"];

/// `max_length` when the call does not give it (Django's field classes' defaults).
pub(crate) fn default_max_length(class: &str) -> Option<Option<i64>> {
    Some(match class {
        "CharField" => None,
        "EmailField" => Some(254),
        "SlugField" => Some(50),
        "URLField" => Some(200),
        "FileField" | "ImageField" | "FilePathField" => Some(100),
        _ => return None,
    })
}

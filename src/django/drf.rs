//! Django REST framework, as the analyses need it: its view classes, which of them list rows
//! through a serializer, and the view methods that decide what a list serializes.

/// DRF's class-based views and viewsets (bases a project's views name).
pub(crate) const API_VIEWS: &[&str] =
    &["APIView", "GenericAPIView", "ViewSet", "GenericViewSet", "ModelViewSet", "ReadOnlyModelViewSet"];

/// View methods that decide what a list serializes: a base class defining one hides the
/// queryset or the serializer from its subclasses' attributes.
pub(crate) const VIEW_HOOKS: &[&str] = &["get_queryset", "get_serializer", "get_serializer_class", "list"];

/// DRF classes whose views list rows through their serializer.
pub(crate) const LIST_VIEWS: &[&str] =
    &["ModelViewSet", "ReadOnlyModelViewSet", "ListAPIView", "ListCreateAPIView", "ListModelMixin"];

/// Whether code can hold a DRF list view for the N+1 rule to follow into its serializer: it
/// names a `serializer_class` and a `queryset`, or serializes many rows (`many=True`).
pub(crate) fn may_hold_list_view(text: &str) -> bool {
    (text.contains("serializer_class") && text.contains("queryset")) || text.contains("many=True")
}

const ws = new WebSocket('ws://localhost:8001/ws/deployment/dep-abc123');

ws.onmessage = function(event) {
    const update = JSON.parse(event.data);
    /*
    {
        "deployment_id": "dep-abc123",
        "status": "deploying",
        "progress": 75,
        "phase": "scaling-services",
        "message": "Chatbot deployment 완료, Advisor deployment 시작"
    }
    */
};
